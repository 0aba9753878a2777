// A real OpenID Connect provider (the oidc-provider package) on loopback over HTTPS for tests, with
// accounts the test can change, its development sign-in form, and a browser that drives it. With
// `entraTenantId` it stands in for Microsoft Entra ID's multi-tenant endpoint: it answers as
// https://login.microsoftonline.com/common/v2.0, publishes the issuer as the template
// https://login.microsoftonline.com/{tenantid}/v2.0, signs tokens as that tenant, and (like Entra)
// sends no `iss` parameter back with the code. Clients reach it through `hosts` (name → local port)
// and trust its certificate through `ca`; nothing in the application's TLS settings is relaxed.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer, request, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { isIP } from "node:net";
import { createSelfSignedCertificate } from "../../src/vault/self-signed-certificate.ts";

export type OidcAccountClaims = Record<string, unknown>;

export type TestOidcProvider = {
  /** What to configure as the provider's issuer. */
  issuer: string;
  /** Where its endpoints are (the issuer's origin). */
  origin: string;
  /** The certificate to trust (self-signed). */
  ca: string;
  /** Host names to route to this provider's port, for clients that cannot use DNS. */
  hosts: Record<string, number>;
  /** Claims per account id (the `sub`); change them between sign-ins. */
  accounts: Map<string, OidcAccountClaims>;
  close(): Promise<void>;
};

export const entraHost = "login.microsoftonline.com";
const entraPrefix = "/common/v2.0";

type KoaContext = {
  path: string;
  status: number;
  body: unknown;
  response: { get(name: string): string; set(name: string, value: string): void };
};
type Provider = {
  callback(): (req: unknown, res: unknown) => void;
  use(middleware: (ctx: KoaContext, next: () => Promise<void>) => Promise<void>): void;
  on(event: string, listener: (...args: unknown[]) => void): void;
};
type ProviderConstructor = new (issuer: string, configuration: Record<string, unknown>) => Provider;

export async function startOidcProvider(options: {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  accounts: Record<string, OidcAccountClaims>;
  entraTenantId?: string;
}): Promise<TestOidcProvider> {
  const moduleName = "oidc-provider";
  const { default: Provider } = (await import(moduleName)) as { default: ProviderConstructor };
  const { certificatePem, privateKeyPem } = await createSelfSignedCertificate(["localhost", "127.0.0.1", entraHost]);
  const server: Server = createServer({ cert: certificatePem, key: privateKeyPem });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  const entra = options.entraTenantId !== undefined;
  const issuer = entra ? `https://${entraHost}/${options.entraTenantId}/v2.0` : `https://localhost:${port}`;
  const accounts = new Map(Object.entries(options.accounts));
  const signingKey = { ...generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "jwk" }), kid: "test-1", alg: "RS256", use: "sig" };

  const provider = new Provider(issuer, {
    clients: [{
      client_id: options.clientId,
      client_secret: options.clientSecret,
      redirect_uris: options.redirectUris,
      response_types: ["code"],
      grant_types: ["authorization_code"],
      token_endpoint_auth_method: "client_secret_post",
    }],
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString("hex")] },
    claims: {
      openid: entra ? ["sub", "tid"] : ["sub"],
      email: entra ? ["email", "email_verified", "xms_edov"] : ["email", "email_verified"],
      profile: ["name", "preferred_username"],
    },
    // Put the scopes' claims into the ID token, which is what the application reads.
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Grant: 600, Interaction: 600, Session: 600 },
    findAccount: async (_ctx: unknown, id: string) => {
      if (!accounts.has(id)) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, ...accounts.get(id) }) };
    },
    // A first-party client: no consent screen, the requested scopes are granted.
    loadExistingGrant: async (ctx: any) => {
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope("openid email profile");
      await grant.save();
      return grant;
    },
  });
  provider.on("server_error", (_ctx, error) => { throw error; });

  if (entra) {
    provider.use(async (ctx, next) => {
      await next();
      if (ctx.path === "/.well-known/openid-configuration" && ctx.body && typeof ctx.body === "object") {
        const metadata = ctx.body as Record<string, unknown>;
        metadata.issuer = `https://${entraHost}/{tenantid}/v2.0`;
        delete metadata.authorization_response_iss_parameter_supported;
      }
      const location = ctx.response.get("location");
      if (location && options.redirectUris.some((uri) => location.startsWith(`${uri}?`))) {
        const url = new URL(location);
        url.searchParams.delete("iss");
        ctx.response.set("location", url.href);
      }
    });
  }

  const handle = provider.callback();
  server.on("request", (req: { url?: string; originalUrl?: string }, res: { statusCode: number; end(): void }) => {
    if (entra) {
      // Served under /common/v2.0 like Entra's multi-tenant endpoint; oidc-provider builds its
      // URLs from originalUrl.
      const url = req.url ?? "/";
      if (!url.startsWith(entraPrefix)) {
        res.statusCode = 404;
        res.end();
        return;
      }
      req.originalUrl = url;
      req.url = url.slice(entraPrefix.length) || "/";
    }
    handle(req, res);
  });

  return {
    issuer: entra ? `https://${entraHost}/common/v2.0` : issuer,
    origin: new URL(issuer).origin,
    ca: certificatePem,
    hosts: entra ? { [entraHost]: port } : {},
    accounts,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export type RawResponse = { status: number; headers: Record<string, string | string[] | undefined>; text: string };

// One HTTPS request trusting `ca`, with host names routed to local ports as `hosts` says.
export function rawRequest(
  url: URL,
  options: { ca: string; hosts: Record<string, number>; method?: string; headers?: Record<string, string>; body?: string | Buffer; signal?: AbortSignal },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const routed = options.hosts[url.hostname];
    const req = request({
      host: routed ? "127.0.0.1" : url.hostname,
      port: routed ?? (url.port || 443),
      ...(isIP(url.hostname) ? {} : { servername: url.hostname }),
      path: `${url.pathname}${url.search}`,
      method: options.method ?? "GET",
      headers: { ...options.headers, host: url.host },
      ca: options.ca,
      timeout: 15_000,
      ...(options.signal ? { signal: options.signal } : {}),
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("request timed out")));
    req.on("error", reject);
    req.end(options.body);
  });
}

/**
 * A fetch for openid-client's customFetch that reaches only the given test providers, each trusted
 * through its own CA and host routing; every response body it sees is appended to `seen` (to look
 * for tokens elsewhere later).
 */
export function createTrustingFetch(options: { providers: TestOidcProvider[]; seen?: string[] }) {
  return async (url: string, init: { method: string; headers: Record<string, string>; body?: unknown; signal?: AbortSignal }): Promise<Response> => {
    const target = new URL(url);
    const provider = options.providers.find((candidate) => candidate.origin === target.origin);
    if (!provider) throw new TypeError(`the test fetch knows no provider at ${target.origin}`);
    const body = init.body === undefined || init.body === null ? undefined
      : init.body instanceof Uint8Array ? Buffer.from(init.body) : String(init.body);
    const response = await rawRequest(target, { ca: provider.ca, hosts: provider.hosts, method: init.method, headers: init.headers, body, ...(init.signal ? { signal: init.signal } : {}) });
    options.seen?.push(response.text);
    const headers = new Headers();
    for (const [name, value] of Object.entries(response.headers)) {
      for (const item of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, item);
    }
    const empty = response.status === 204 || response.status === 304;
    return new Response(empty ? null : response.text, { status: response.status, headers });
  };
}

/** A person's browser at the provider: its own cookies, following redirects and the sign-in form. */
export class ProviderBrowser {
  readonly cookies = new Map<string, string>();
  readonly ca: string;
  readonly hosts: Record<string, number>;

  constructor(provider: Pick<TestOidcProvider, "ca" | "hosts">) {
    this.ca = provider.ca;
    this.hosts = provider.hosts;
  }

  /**
   * Opens the authorisation URL, signs in as `accountId`, and returns the URL the provider sends the
   * browser back to (the application's callback, not opened here).
   */
  async signIn(authorizationUrl: string, accountId: string, callbackPrefix: string): Promise<URL> {
    let url = new URL(authorizationUrl);
    let method = "GET";
    let body: string | undefined;
    for (let step = 0; step < 20; step++) {
      if (url.href.startsWith(callbackPrefix)) return url;
      const headers: Record<string, string> = { "user-agent": "strongroom-test/1.0" };
      if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
      if (body !== undefined) headers["content-type"] = "application/x-www-form-urlencoded";
      const response = await rawRequest(url, { ca: this.ca, hosts: this.hosts, method, headers, ...(body === undefined ? {} : { body }) });
      for (const cookie of [response.headers["set-cookie"] ?? []].flat()) {
        const [pair] = cookie.split(";");
        const index = pair!.indexOf("=");
        const name = pair!.slice(0, index);
        const value = pair!.slice(index + 1);
        if (/expires=Thu, 01 Jan 1970/i.test(cookie) || value === "") this.cookies.delete(name);
        else this.cookies.set(name, value);
      }
      const location = response.headers.location;
      if (response.status >= 300 && response.status < 400 && typeof location === "string") {
        url = new URL(location, url);
        method = "GET";
        body = undefined;
        continue;
      }
      const form = /<form[^>]*action="([^"]+)"[^>]*method="post">\s*<input type="hidden" name="prompt" value="(login|consent)"\/>/.exec(response.text);
      if (response.status === 200 && form) {
        url = new URL(form[1]!.replace(/&amp;/g, "&"), url);
        method = "POST";
        body = form[2] === "login" ? new URLSearchParams({ prompt: "login", login: accountId, password: "any" }).toString() : "prompt=consent";
        continue;
      }
      throw new Error(`the provider answered ${response.status}: ${response.text.slice(0, 400)}`);
    }
    throw new Error("too many redirects at the provider");
  }
}
