// Every element the console makes goes through here: text is always a text
// node, attributes are set one by one, and there is no way to pass HTML.

type Child = Node | string | number | null | undefined | false;
type AttributeValue = string | number | boolean | undefined | null;
interface Attributes {
  /** Event listeners, by event type. */
  on?: Record<string, (event: Event) => void>;
  [name: string]: AttributeValue | Record<string, (event: Event) => void>;
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'on') {
      for (const [type, listener] of Object.entries(value as Record<string, EventListener>))
        element.addEventListener(type, listener);
    } else if (value === true) element.setAttribute(name, '');
    else if (value !== false && value !== undefined && value !== null) {
      if (name === 'value' && 'value' in element) (element as HTMLInputElement).value = String(value);
      else element.setAttribute(name, String(value));
    }
  }
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/**
 * A value that came from data (an organisation id, an indicator, a report's
 * own words), marked so: it is shown as written in every language, and the
 * Japanese page test tells it from text that should have been translated.
 */
export function dataValue(text: string, full?: string): HTMLSpanElement {
  return el('span', { 'data-value': '', ...(full && full !== text ? { title: full } : {}) }, text);
}

/** A catalogue message with some placeholders filled by elements (data values), the rest by text. */
export function fill(template: string, params: Record<string, Child>): Child[] {
  const parts: Child[] = [];
  let last = 0;
  for (const match of template.matchAll(/\{(\w+)\}/g)) {
    parts.push(template.slice(last, match.index));
    parts.push(match[1]! in params ? params[match[1]!] : match[0]);
    last = match.index + match[0].length;
  }
  parts.push(template.slice(last));
  return parts.filter((part) => part !== '');
}
