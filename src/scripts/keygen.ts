// Prints a new value for JWT_SIGNING_KEYS. To rotate: put the new key first and keep the old
// ones after it until tokens they signed have expired (ACCESS_TOKEN_TTL).
import { generateSigningKey } from '../modules/auth/signing-keys';

void generateSigningKey().then((key) => console.log(JSON.stringify({ keys: [key] })));
