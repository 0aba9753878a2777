// The signer's side, public, under /v1/sign/:token (the PIN route class: rate-limited per address).
// The link alone shows only that a PIN is needed and the sending company's name; the PIN earns a
// short-lived session (X-Signing-Session) for the document, the recipient's fields, consent, signing
// and declining. Every request lands on the sending company's audit trail with the step it took; the
// token never reaches a log line or an audit record.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { addAuditDetails, setAuditTenant } from "../audit/audit-trail.ts";
import { sendDocumentVersion } from "../sharing/send-document-version.ts";
import { declineSignatureRequest, maxDeclineReasonLength } from "./decline-signature-request.ts";
import { findRecipientByToken, linkGone, requireOpenSigningLink, requireSignerSession, type OpenSigningLink } from "./open-signing-link.ts";
import { consentText, recordConsent } from "./record-consent.ts";
import { recordEvidence } from "./record-evidence.ts";
import { loadRecipients } from "./send-signature-request.ts";
import { loadFieldsOf, maxDrawnSignatureBytes, signAsRecipient, type FilledValue } from "./sign-as-recipient.ts";
import type { SigningDeps } from "./signing-deps.ts";
import { openCompanyName, openContact, openRequestMessage, openRequestTitle } from "./signing-fields.ts";
import { signerSessionHeader, signingTokenPattern } from "./signing-secrets.ts";
import { isTurnOf, type RecipientRow } from "./signing-turns.ts";
import { signingLimits } from "./create-signature-request.ts";
import { unlockSigningLink } from "./unlock-signing-link.ts";

type LinkParams = { token: string };

const linkParams = { type: "object", properties: { token: { type: "string", pattern: signingTokenPattern } }, required: ["token"] } as const;
const signBody = {
  type: "object", additionalProperties: false, required: ["fields"],
  properties: {
    fields: {
      type: "array", maxItems: signingLimits.fields,
      items: {
        type: "object", additionalProperties: false, required: ["fieldId", "value"],
        properties: { fieldId: { type: "string", minLength: 1, maxLength: 64 }, value: { type: "string", maxLength: Math.ceil(maxDrawnSignatureBytes * 4 / 3) + 30 } },
      },
    },
  },
} as const;
// A drawn signature is a PNG of up to 256 KiB, base64 in JSON: room for it, and no more.
const signBodyLimit = 512 * 1024;

// The request line of a link route is logged by its pattern: the path holds the token.
const tokenFreeLogLine = {
  req: (request: FastifyRequest) => ({ id: request.id, method: request.method, path: request.routeOptions.url, ip: request.ip }),
};

export async function registerSignerRoutes(app: FastifyInstance, deps: SigningDeps): Promise<void> {
  const { db, vault } = deps;

  // Looked up before the audit record is begun, so that every step lands in the company's chain.
  const lookups = new WeakMap<FastifyRequest, Promise<RecipientRow | undefined>>();
  const lookUpLink = async (request: FastifyRequest) => {
    const lookup = findRecipientByToken(deps, (request.params as Partial<LinkParams>).token);
    lookups.set(request, lookup);
    const recipient = await lookup.catch(() => undefined);
    if (recipient) setAuditTenant(request, recipient.tenant_id);
  };
  const openLink = async (request: FastifyRequest): Promise<OpenSigningLink> => {
    const link = await requireOpenSigningLink(deps, await (lookups.get(request) ?? Promise.resolve(undefined)));
    addAuditDetails(request, { signatureRequestId: link.request.id, recipientId: link.recipient.id });
    return link;
  };
  const openSession = async (request: FastifyRequest): Promise<OpenSigningLink> => {
    const link = await openLink(request);
    requireSignerSession(deps, link, request.headers[signerSessionHeader]);
    return link;
  };
  const meta = (request: FastifyRequest) => ({ ip: request.ip, userAgent: request.headers["user-agent"] });
  const evidence = (request: FastifyRequest, link: OpenSigningLink, event: "opened" | "viewed") => {
    addAuditDetails(request, { step: event });
    return recordEvidence(deps, { tenantId: link.request.tenant_id, requestId: link.request.id, recipientId: link.recipient.id, event, ...meta(request) });
  };
  const linkRoute = { onRequest: lookUpLink, logSerializers: tokenFreeLogLine };

  // Before the PIN: the company's name and that a PIN is needed; nothing of the document.
  app.get<{ Params: LinkParams }>("/v1/sign/:token", { ...linkRoute, schema: { params: linkParams } }, async (request) => {
    const link = await openLink(request);
    await evidence(request, link, "opened");
    const tenant = await db.selectFrom("tenants").select(["id", "name_ciphertext"]).where("id", "=", link.request.tenant_id).executeTakeFirstOrThrow();
    return { company: await openCompanyName(vault, tenant), pinRequired: true, expiresAt: link.request.expires_at };
  });

  app.post<{ Params: LinkParams; Body: { pin: string } }>("/v1/sign/:token/pin", {
    ...linkRoute,
    schema: { params: linkParams, body: { type: "object", additionalProperties: false, required: ["pin"], properties: { pin: { type: "string", minLength: 1, maxLength: 12 } } } },
  }, async (request) => {
    const link = await openLink(request);
    return unlockSigningLink(deps, link, request.body.pin, meta(request));
  });

  // After the PIN: what the recipient is asked to do.
  app.get<{ Params: LinkParams }>("/v1/sign/:token/request", { ...linkRoute, schema: { params: linkParams } }, async (request) => {
    const link = await openSession(request);
    const { request: signatureRequest, recipient } = link;
    const recipients = await loadRecipients(deps, signatureRequest);
    const fields = (await loadFieldsOf(deps, signatureRequest.tenant_id, signatureRequest.id)).filter((field) => field.recipient_id === recipient.id);
    const tenant = await db.selectFrom("tenants").select(["id", "name_ciphertext"]).where("id", "=", signatureRequest.tenant_id).executeTakeFirstOrThrow();
    const contact = await openContact(vault, recipient);
    return {
      company: await openCompanyName(vault, tenant), title: await openRequestTitle(vault, signatureRequest), message: await openRequestMessage(vault, signatureRequest),
      recipient: { name: contact.name, email: contact.email, role: recipient.role }, yourTurn: isTurnOf(signatureRequest, recipients, recipient),
      expiresAt: signatureRequest.expires_at, consentText, consentAt: recipient.consent_at,
      fields: fields.map((field) => ({ id: field.id, kind: field.kind, page: field.page, x: field.x, y: field.y, width: field.width, height: field.height, required: field.required === 1 })),
    };
  });

  app.get<{ Params: LinkParams }>("/v1/sign/:token/document", { ...linkRoute, schema: { params: linkParams } }, async (request, reply) => {
    const link = await openSession(request);
    const version = await db.selectFrom("document_versions").selectAll().where("tenant_id", "=", link.request.tenant_id).where("document_id", "=", link.request.document_id)
      .where("version", "=", link.request.document_version).where("state", "=", "complete").executeTakeFirst();
    if (!version) throw linkGone();
    await evidence(request, link, "viewed");
    return sendDocumentVersion(reply, deps, version, { rangeHeader: request.headers.range, fallbackName: "document.pdf" });
  });

  app.post<{ Params: LinkParams }>("/v1/sign/:token/consent", { ...linkRoute, schema: { params: linkParams } }, async (request) => {
    const link = await openSession(request);
    addAuditDetails(request, { step: "consented" });
    return recordConsent(deps, link, meta(request));
  });

  app.post<{ Params: LinkParams; Body: { fields: FilledValue[] } }>("/v1/sign/:token/sign", {
    ...linkRoute, bodyLimit: signBodyLimit, schema: { params: linkParams, body: signBody },
  }, async (request) => {
    const link = await openSession(request);
    addAuditDetails(request, { step: link.recipient.role === "approver" ? "approved" : "signed", fields: request.body.fields.length });
    const result = await signAsRecipient(deps, link, request.body.fields, meta(request));
    addAuditDetails(request, { requestStatus: result.status === "completed" ? "completed" : "sent" });
    return result;
  });

  app.post<{ Params: LinkParams; Body: { reason: string } }>("/v1/sign/:token/decline", {
    ...linkRoute,
    schema: { params: linkParams, body: { type: "object", additionalProperties: false, required: ["reason"], properties: { reason: { type: "string", minLength: 1, maxLength: maxDeclineReasonLength } } } },
  }, async (request) => {
    const link = await openSession(request);
    addAuditDetails(request, { step: "declined" });
    await declineSignatureRequest(deps, link, request.body.reason, meta(request));
    return { status: "declined" };
  });
}
