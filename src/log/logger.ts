// The one logger (pino). Every field whose name marks a secret is replaced before a line is written,
// at any depth, so a share, password, token or key passed in a log object never reaches the output.
import pino, { type DestinationStream, type Logger } from "pino";

export type { Logger };

const redacted = "[redacted]";

// Compared after lower-casing and dropping '-' and '_'.
const secretFieldNames = new Set([
  "password", "newpassword", "currentpassword", "passphrase", "secret", "clientsecret", "apisecret",
  "token", "accesstoken", "refreshtoken", "idtoken", "sessionid", "session", "csrftoken",
  "share", "shares", "unsealkey", "rootkey", "key", "privatekey", "dek", "kek",
  "pin", "code", "otp", "totp", "recoverycode", "recoverycodes",
  "authorization", "proxyauthorization", "cookie", "setcookie", "xapikey",
  "plaintext", "content", "body", "secretaccesskey",
]);

export function isSecretFieldName(name: string): boolean {
  return secretFieldNames.has(name.toLowerCase().replace(/[-_]/g, ""));
}

export function redactSecrets(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== "object") return value;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `[${value.byteLength} bytes]`;
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1));
  // Class instances (requests, replies, errors) are left to the serializers below.
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return value;
  const result: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    result[key] = isSecretFieldName(key) ? redacted : redactSecrets(child, depth + 1);
  }
  return result;
}

export function createLogger(options: { level: string; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      base: { service: "strongroom" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { log: (object) => redactSecrets(object) as Record<string, unknown> },
      serializers: {
        req: (request: { method?: string; url?: string; ip?: string; id?: string }) => ({
          id: request.id,
          method: request.method,
          // Query strings can carry tokens (links, OAuth callbacks): only the path is logged.
          path: request.url?.split("?")[0],
          ip: request.ip,
        }),
        res: (reply: { statusCode?: number }) => ({ statusCode: reply.statusCode }),
        // A JSON parser's message quotes the input, which may be a secret: keep only its type.
        err: (error: Error & { code?: string }) =>
          error instanceof SyntaxError
            ? { type: error.name, code: error.code }
            : { type: error.name, code: error.code, message: error.message, stack: error.stack },
      },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
