// `backup verify`: reads every part of one backup on one destination and checks it against the
// signed manifest. Each problem names the part (manifest.json, db.part, index.part, blobs/…).
import { isAppError } from "../../errors/app-error.ts";
import { verifyServiceSignature } from "../../vault/service-signing-key.ts";
import { blobKeyOf, partKey, type BackupDestination } from "./backup-destinations.ts";
import { digestOf, forEachLimited } from "./backup-digests.ts";
import type { BackupManifest, ManifestFile } from "./backup-manifest.ts";
import { readManifest } from "./list-backups.ts";

export type VerifyProblem = { part: string; problem: string };
export type VerifyReport = { id: string; destination: string; ok: boolean; partsChecked: number; signedBy: string | undefined; problems: VerifyProblem[] };

/**
 * trustedKeys: the installation's service public keys; when given, the manifest must be signed by one
 * of them (not merely by the key it names). Without them only self-consistency can be checked.
 */
export async function verifyBackup(destination: BackupDestination, id: string, trustedKeys?: { id: string; publicKeyPem: string }[]): Promise<VerifyReport> {
  const report: VerifyReport = { id, destination: destination.name, ok: false, partsChecked: 0, signedBy: undefined, problems: [] };
  let file: ManifestFile;
  let manifest: BackupManifest;
  try {
    ({ file, manifest } = await readManifest(destination, id));
  } catch (error) {
    const missing = isAppError(error) && error.code === "blob_not_found";
    report.problems.push({ part: "manifest.json", problem: missing ? "missing: no good backup with this id" : isAppError(error) ? error.message : String(error) });
    return report;
  }
  report.signedBy = file.signature.keyId;
  const problems = report.problems;
  if (manifest.id !== id) problems.push({ part: "manifest.json", problem: `belongs to backup ${manifest.id}, not ${id}` });
  const trusted = trustedKeys?.find((key) => key.id === file.signature.keyId);
  if (trustedKeys && trustedKeys.length > 0 && (!trusted || trusted.publicKeyPem.trim() !== file.signature.publicKeyPem.trim())) {
    problems.push({ part: "manifest.json", problem: `signed by ${file.signature.keyId}, which is not a service key of this installation` });
  } else if (!verifyServiceSignature(file.signature.publicKeyPem, Buffer.from(file.body, "utf8"), file.signature.signature)) {
    problems.push({ part: "manifest.json", problem: "signature does not verify" });
  }
  const checks = [
    ...manifest.parts.map((part) => ({ label: part.name, key: partKey(id, part.name), sha256: part.sha256, size: part.size })),
    ...manifest.blobs.map((blob) => ({ label: blobKeyOf(blob.sha256), key: blobKeyOf(blob.sha256), sha256: blob.sha256, size: blob.size })),
  ];
  await forEachLimited(checks, 4, async (check) => {
    try {
      const found = await digestOf(await destination.store.get(check.key));
      if (found.size !== check.size) problems.push({ part: check.label, problem: `size ${found.size}, manifest says ${check.size}` });
      else if (found.sha256 !== check.sha256) problems.push({ part: check.label, problem: "SHA-256 does not match the manifest" });
    } catch (error) {
      problems.push({ part: check.label, problem: isAppError(error) && error.code === "blob_not_found" ? "missing" : String((error as Error).message ?? error) });
    }
    report.partsChecked += 1;
  });
  report.ok = problems.length === 0;
  return report;
}
