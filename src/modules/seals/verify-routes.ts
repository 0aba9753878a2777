// Public verification, no sign-in: POST /v1/verify (a SHA-256, or the PDF itself streamed into the
// hash), GET /v1/verify/keys (public keys and signing certificates for offline checks), and the
// transparency log's signed head and consistency proofs. Answers only concern a seal whose hash (or
// file) the caller already holds.
import type { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { AppError } from "../../errors/app-error.ts";
import { addAuditDetails } from "../audit/audit-trail.ts";
import { latestTreeHead, proveConsistency, treeHeadOfSize } from "./transparency-log.ts";
import { verifySealedHash, verifySealedPdfStream, type SealVerification, type VerifyDeps } from "./verify-sealed-pdf.ts";

export type VerifyRouteDeps = VerifyDeps & { maxPdfBytes?: number };

export const defaultMaxVerifyPdfBytes = 100 * 1024 * 1024;

const sha256 = { type: "string", pattern: "^[0-9a-fA-F]{64}$" } as const;
// Query strings are not coerced (see app.ts): a tree size is 1 to 13 digits, not starting with 0.
const treeSize = { type: "string", pattern: "^[1-9][0-9]{0,12}$" } as const;
const treeHead = {
  type: "object",
  properties: { treeSize: { type: "integer" }, rootHash: { type: "string" }, signedAt: { type: "string" }, keyId: { type: "string" }, signature: { type: "string" } },
} as const;
const verification = {
  type: "object",
  required: ["status", "sha256"],
  properties: {
    status: { type: "string", enum: ["sealed", "modified", "not_sealed"] },
    sha256: { type: "string" },
    erased: { type: "boolean", description: "the company's keys were destroyed: sealed, but who signed can no longer be read" },
    seal: {
      type: ["object", "null"],
      properties: {
        format: { type: "string" }, sha256: { type: "string" }, originalSha256: { type: "string" }, requestId: { type: "string" }, tenantId: { type: "string" },
        signers: { type: "array", items: { type: "object", properties: { name: { type: "string" }, email: { type: "string" }, signedAt: { type: "string" } } } },
        completedAt: { type: "string" }, sealedAt: { type: "string" }, keyId: { type: "string" }, signature: { type: "string" }, logIndex: { type: "integer" },
      },
    },
    sealSignatureValid: { type: "boolean" },
    inclusionProof: {
      type: "object",
      properties: { logIndex: { type: "integer" }, treeSize: { type: "integer" }, leafHash: { type: "string" }, path: { type: "array", items: { type: "string" } } },
    },
    treeHead,
  },
} as const;

export function registerVerifyRoutes(app: FastifyInstance, deps: VerifyRouteDeps): void {
  const maxPdfBytes = deps.maxPdfBytes ?? defaultMaxVerifyPdfBytes;
  // A PDF to verify is hashed as it arrives, never parsed or held whole.
  app.addContentTypeParser("application/pdf", (_request, payload, done) => done(null, payload));

  app.post(
    "/v1/verify",
    {
      // Only the two documented body types reach validation.
      preValidation: async (request) => {
        if (!/^application\/(json|pdf)\b/i.test(request.headers["content-type"] ?? "")) {
          throw new AppError("unsupported_media_type", "send application/json with a sha256, or the PDF as application/pdf");
        }
      },
      schema: {
        body: {
          content: {
            "application/json": { schema: { type: "object", additionalProperties: false, required: ["sha256"], properties: { sha256 } } },
            "application/pdf": { schema: { description: `the PDF itself, at most ${maxPdfBytes} bytes` } },
          },
        },
        response: { 200: verification },
      },
    },
    async (request) => {
      let result: SealVerification;
      if (/^application\/pdf\b/i.test(request.headers["content-type"] ?? "")) {
        const declared = Number(request.headers["content-length"] ?? 0);
        if (declared > maxPdfBytes) throw new AppError("payload_too_large", `the PDF is larger than ${maxPdfBytes} bytes`);
        result = await verifySealedPdfStream(deps, request.body as Readable, maxPdfBytes);
      } else {
        result = await verifySealedHash(deps, (request.body as { sha256: string }).sha256);
      }
      addAuditDetails(request, { sha256: result.sha256, status: result.status, ...(result.status !== "not_sealed" ? { logIndex: result.inclusionProof.logIndex } : {}) });
      return result;
    },
  );

  app.get("/v1/verify/keys", {
    schema: {
      response: {
        200: {
          type: "object",
          properties: {
            serviceKeys: { type: "array", items: { type: "object", properties: { id: { type: "string" }, algorithm: { type: "string" }, publicKeyPem: { type: "string" } } } },
            signingCertificates: { type: "array", items: { type: "string" } },
          },
        },
      },
    },
  }, async () => ({
    serviceKeys: (await deps.vault.serviceKey.publicKeys()).map((key) => ({ ...key, algorithm: "ed25519" })),
    signingCertificates: await deps.vault.documentSigningKey.certificates(),
  }));

  app.get("/v1/transparency/head", { schema: { response: { 200: treeHead } } }, async () => {
    const head = await latestTreeHead(deps.db);
    if (!head) throw new AppError("not_found", "the transparency log is empty");
    return head;
  });

  app.get<{ Querystring: { from: string; to: string } }>(
    "/v1/transparency/consistency",
    {
      schema: {
        querystring: { type: "object", additionalProperties: false, required: ["from", "to"], properties: { from: treeSize, to: treeSize } },
        response: { 200: { type: "object", properties: { from: treeHead, to: treeHead, proof: { type: "array", items: { type: "string" } } } } },
      },
    },
    async (request) => {
      const from = Number(request.query.from);
      const to = Number(request.query.to);
      if (from > to) throw new AppError("validation_failed", "from must not be larger than to");
      const [older, newer] = await Promise.all([treeHeadOfSize(deps.db, from), treeHeadOfSize(deps.db, to)]);
      if (!older || !newer) throw new AppError("not_found", "the log has no signed tree head of that size");
      return { from: older, to: newer, proof: await proveConsistency(deps.db, from, to) };
    },
  );
}
