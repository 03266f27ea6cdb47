/** A link to the frontend at `publicUrl` (PUBLIC_URL): `path`, with `params` as its query. */
export function publicLink(publicUrl: string, path: string, params: Record<string, string> = {}): string {
  const url = new URL(path, `${publicUrl}/`);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.toString();
}
