// The signature workflow's part of a company export: each signature request with its recipients
// (names and e-mail addresses as the sender entered them, status and times — never link tokens or
// PINs) and, once completed, the signed and sealed final PDF with its SHA-256.
import { openContact, openRequestTitle } from "../signing/signing-fields.ts";
import { openFinalPdf } from "../signing/open-final-pdf.ts";
import { jsonEntry } from "./export-archive.ts";
import type { CompanyExportSection } from "./export-company.ts";
import type { TarEntry } from "./tar-writer.ts";

const pageSize = 200;

export const exportSignatureRequests: CompanyExportSection = async function* (deps, tenantId): AsyncGenerator<TarEntry> {
  const { db, vault } = deps;
  let after = "";
  for (;;) {
    const requests = await db.selectFrom("signature_requests").selectAll().where("tenant_id", "=", tenantId).where("id", ">", after).orderBy("id").limit(pageSize).execute();
    for (const request of requests) {
      const recipients = await db.selectFrom("signature_recipients").selectAll().where("tenant_id", "=", tenantId).where("request_id", "=", request.id)
        .orderBy("order_index").limit(1000).execute();
      const folder = `signatures/${request.id}`;
      yield jsonEntry(`${folder}/request.json`, {
        id: request.id, documentId: request.document_id, documentVersion: request.document_version,
        title: await openRequestTitle(vault, request), status: request.status, signingOrder: request.signing_order,
        createdBy: request.created_by, createdAt: request.created_at, sentAt: request.sent_at, finishedAt: request.finished_at, expiresAt: request.expires_at,
        final: request.final_blob_key ? { file: `${folder}/signed.pdf`, size: Number(request.final_size), sha256: request.seal_sha256 } : null,
        recipients: await Promise.all(recipients.map(async (recipient) => {
          const contact = await openContact(vault, recipient);
          return {
            id: recipient.id, role: recipient.role, order: recipient.order_index, status: recipient.status, name: contact.name, email: contact.email,
            notifiedAt: recipient.notified_at, consentAt: recipient.consent_at, signedAt: recipient.signed_at, declinedAt: recipient.declined_at,
          };
        })),
      });
      if (request.status === "completed" && request.final_blob_key) {
        yield {
          name: `${folder}/signed.pdf`, size: Number(request.final_size), mtime: new Date(request.finished_at ?? request.created_at),
          // Opened only when the archive reaches it (see openWhenRead).
          body: (async function* () { yield* await openFinalPdf(deps, request); })(),
        };
      }
    }
    if (requests.length < pageSize) break;
    after = requests[requests.length - 1]!.id;
  }
};
