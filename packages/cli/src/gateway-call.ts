/**
 * One JSON call to a hub route with a bearer token, as the commands that
 * drive the gateway make it: the status and the body's text, left for the
 * command to judge (some answers other than 2xx are what it reports).
 */
export async function gatewayCall(
  fetchImpl: typeof fetch | undefined,
  url: URL,
  token: string,
  method: string,
  body?: unknown,
): Promise<{ status: number; text: string }> {
  const response = await (fetchImpl ?? fetch)(url, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, text: await response.text() };
}
