/**
 * What the indicators package uses of `node:url`, for browsers. A name with
 * no character a host cannot have (the caller checks that first) parses as
 * a WHATWG host, which applies the same UTS 46 mapping Node.js does; an
 * invalid one throws, which Node.js reports as the empty string.
 */
export function domainToASCII(domain: string): string {
  try {
    return new URL(`http://${domain}/`).hostname;
  } catch {
    return '';
  }
}

export function fileURLToPath(url: string | URL): string {
  return new URL(url).pathname;
}
