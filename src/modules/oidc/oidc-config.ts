// Which OpenID Connect providers people may sign in with: Google, Microsoft Entra ID, or any issuer
// that publishes discovery metadata over HTTPS. Read once at start-up; wrong settings are named.
import { z } from "zod";

export const oidcProviderKinds = ["google", "microsoft", "generic"] as const;
export type OidcProviderKind = (typeof oidcProviderKinds)[number];

export const googleIssuer = "https://accounts.google.com";
// Entra ID's v2.0 endpoints: multi-tenant (common, organizations) or one tenant by its id.
export const entraIssuerPattern = /^https:\/\/login\.microsoftonline\.com\/(common|organizations|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/v2\.0$/;
export const maxOidcProviders = 10;

const scopeToken = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

const oidcProviderSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, "use 1-32 lower-case letters, digits or '-' (it appears in the callback URL)"),
    kind: z.enum(oidcProviderKinds),
    issuer: z.url({ protocol: /^https$/, error: "must be an https:// URL" }).max(512),
    clientId: z.string().min(1).max(512),
    clientSecret: z.string().min(1).max(2048),
    scopes: z.string().max(512).default("openid email profile"),
  })
  .superRefine((provider, context) => {
    const scopes = provider.scopes.split(" ").filter(Boolean);
    if (!scopes.includes("openid") || !scopes.includes("email") || scopes.length > 20 || !scopes.every((scope) => scopeToken.test(scope))) {
      context.addIssue({ code: "custom", path: ["scopes"], message: "space-separated scopes (at most 20) that include 'openid' and 'email'" });
    }
    if (provider.kind === "google" && provider.issuer !== googleIssuer) {
      context.addIssue({ code: "custom", path: ["issuer"], message: `Google's issuer is ${googleIssuer}` });
    }
    if (provider.kind === "microsoft" && !entraIssuerPattern.test(provider.issuer)) {
      context.addIssue({
        code: "custom", path: ["issuer"],
        message: "use https://login.microsoftonline.com/common/v2.0, …/organizations/v2.0 or …/<tenant id>/v2.0",
      });
    }
  });

export const oidcConfigSchema = z
  .array(oidcProviderSchema)
  .max(maxOidcProviders, `at most ${maxOidcProviders} sign-in providers`)
  .default([])
  .superRefine((providers, context) => {
    const seen = new Set<string>();
    providers.forEach((provider, index) => {
      if (seen.has(provider.id)) context.addIssue({ code: "custom", path: [index, "id"], message: `the provider id "${provider.id}" is used twice` });
      seen.add(provider.id);
    });
  });

export type OidcProviderConfig = z.infer<typeof oidcProviderSchema>;
export type OidcConfig = z.infer<typeof oidcConfigSchema>;
