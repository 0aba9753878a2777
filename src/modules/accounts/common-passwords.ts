// A shipped list of very common passwords (top entries of public breach corpora that are 12+ characters),
// kept in code so the check works offline. Compared case-insensitively, ignoring spaces.

const commonPasswords = new Set([
  "000000000000",
  "111111111111",
  "123123123123",
  "123456789012",
  "1234567890123",
  "12345678901234",
  "123456789123",
  "1234qwerasdf",
  "123qweasdzxc",
  "147258369123",
  "159357159357",
  "1q2w3e4r5t6y",
  "1q2w3e4r5t6y7u",
  "1qaz2wsx3edc",
  "987654321098",
  "aaaaaaaaaaaa",
  "abc123456789",
  "abcdef123456",
  "abcdefghijkl",
  "admin1234567",
  "adminadmin123",
  "administrator",
  "asdfasdfasdf",
  "asdfghjkl123",
  "baseball1234",
  "batman123456",
  "changeme1234",
  "changemenow1",
  "correcthorsebatterystaple",
  "dragon123456",
  "football1234",
  "iloveyou1234",
  "iloveyouiloveyou",
  "letmein12345",
  "letmeinletmein",
  "monkey123456",
  "mypassword12",
  "mypassword123",
  "p@ssw0rd1234",
  "p@ssword1234",
  "passw0rd1234",
  "password123!",
  "password1234",
  "password12345",
  "password123456",
  "password2020",
  "password2021",
  "password2022",
  "password2023",
  "password2024",
  "password2025",
  "password2026",
  "passwordpassword",
  "princess1234",
  "qazwsxedcrfv",
  "qwerty123456",
  "qwertyqwerty",
  "qwertyuiop12",
  "qwertyuiop123",
  "qwertyuiopas",
  "secret123456",
  "starwars1234",
  "sunshine1234",
  "superman1234",
  "thisismypassword",
  "trustno1trustno1",
  "welcome12345",
  "welcome123456",
  "welcomewelcome",
  "zaq12wsxcde3",
]);

export function isCommonPassword(password: string): boolean {
  const normalised = password.toLowerCase().replace(/\s+/g, "");
  if (commonPasswords.has(normalised)) return true;
  // One character repeated, or a run like 123456789012 / abcdefghijkl, is as weak as a listed one.
  if (/^(.)\1+$/.test(normalised)) return true;
  return isSequential(normalised);
}

function isSequential(text: string): boolean {
  for (const step of [1, -1]) {
    let sequential = true;
    for (let index = 1; index < text.length && sequential; index++) {
      const difference = text.charCodeAt(index) - text.charCodeAt(index - 1);
      sequential = difference === step || (step === 1 && difference === -9) || (step === -1 && difference === 9);
    }
    if (sequential) return true;
  }
  return false;
}
