import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkFieldValue, maxDrawnSignatureBytes, type FieldRow } from "./sign-as-recipient.ts";

const field = (kind: FieldRow["kind"]): FieldRow => ({ tenant_id: "t", id: "f", request_id: "r", recipient_id: "x", kind, page: 0, x: 0, y: 0, width: 10, height: 10, required: 1, value_ciphertext: null });
const png = (bytes: number) => `data:image/png;base64,${Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(bytes - 8)]).toString("base64")}`;
const refused = (kind: FieldRow["kind"], value: string) => assert.throws(() => checkFieldValue(field(kind), value), (error: { code?: string }) => error.code === "validation_failed", `${kind}: ${value.slice(0, 40)}`);

describe("field values", () => {
  it("accepts what each kind allows, trimmed", () => {
    assert.equal(checkFieldValue(field("text"), "  hello "), "hello");
    assert.equal(checkFieldValue(field("checkbox"), "true"), "true");
    assert.equal(checkFieldValue(field("signature"), "Sam First"), "Sam First");
    assert.equal(checkFieldValue(field("signature"), png(100)), png(100));
    assert.equal(checkFieldValue(field("signature"), png(maxDrawnSignatureBytes)).length > 0, true);
  });

  it("refuses what does not fit", () => {
    refused("checkbox", "yes");
    refused("text", "x".repeat(501));
    refused("initials", "x".repeat(501));
    refused("signature", "x".repeat(201));
    refused("signature", "data:image/jpeg;base64,AAAA");
    refused("signature", "data:image/png;base64,AAAAAAAAAAAA");
    refused("signature", png(maxDrawnSignatureBytes + 1));
  });
});
