// DEVELOPMENT STAND-IN until the seal module (branch `seal`) is merged: replaced by the real
// sealSignedDocument before this is committed.
import { createHash } from "node:crypto";
import type { SealSignedDocument } from "../../src/modules/signing/signing-deps.ts";

export function sealForTests(): SealSignedDocument {
  return async (input) => {
    const finalPdf = Buffer.concat([Buffer.from(input.originalPdf), Buffer.from(`\n%signed ${input.requestId}\n`)]);
    const sha256 = createHash("sha256").update(finalPdf).digest("hex");
    return {
      finalPdf,
      seal: {
        format: "strongroom-seal/v1", sha256, originalSha256: createHash("sha256").update(input.originalPdf).digest("hex"), requestId: input.requestId, tenantId: input.tenantId,
        signers: input.signers.map((signer) => ({ name: signer.name, email: signer.email, signedAt: signer.signedAt })), completedAt: input.completedAt,
        sealedAt: input.completedAt, keyId: "dev", signature: "dev", logIndex: 0,
      },
    };
  };
}
