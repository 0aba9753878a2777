// Configuration of the data lifecycle: the register of sub-processors shown to companies (GDPR
// art. 28: who else processes their data, for what, where) and how often the retention sweep runs.
import { z } from "zod";

const subProcessor = z.object({
  name: z.string().min(1).max(200),
  purpose: z.string().min(1).max(500),
  location: z.string().min(1).max(200),
  dataCategories: z.array(z.string().min(1).max(100)).max(20).default([]),
  url: z.url({ protocol: /^https?$/ }).optional(),
});

export type SubProcessor = z.infer<typeof subProcessor>;

export const privacyConfigSchema = z.object({
  subProcessors: z.array(subProcessor).max(100).default([]),
  retentionSweepMinutes: z.coerce.number().int().min(1).max(7 * 24 * 60).default(60),
}).prefault({});

export type PrivacyConfig = z.infer<typeof privacyConfigSchema>;
