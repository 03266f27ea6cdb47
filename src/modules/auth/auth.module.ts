import { defineModule } from '../module';
import { AccessTokenService } from './access-token.service';
import { AuthResolver } from './auth.resolver';
import { AuthService } from './auth.service';
import { OneTimeToken } from './one-time-token.entity';
import { OneTimeTokenService } from './one-time-token.service';
import { PasswordFlows } from './password-flows.service';
import { PasswordService } from './password.service';
import { RefreshToken } from './refresh-token.entity';
import { Session } from './session.entity';
import { SignInGate } from './second-step';
import { SessionService } from './session.service';
import { SigningKeys } from './signing-keys';

declare module '../module' {
  interface AppServices {
    keys: SigningKeys;
    passwords: PasswordService;
    accessTokens: AccessTokenService;
    sessions: SessionService;
    oneTimeTokens: OneTimeTokenService;
    auth: AuthService;
    passwordFlows: PasswordFlows;
    /** Asked by every way in before it issues tokens; the two-factor module plugs its second step in. */
    signInGate: SignInGate;
  }
}

export const authModule = defineModule({
  name: 'auth',
  entities: [Session, RefreshToken, OneTimeToken],
  resolvers: [AuthResolver],
  async services({ config, logger, sql, clock, onStop, services }) {
    const keys = await SigningKeys.load(config, logger);
    const passwords = new PasswordService(config);
    onStop(() => passwords.close()); // its hashing process
    const accessTokens = new AccessTokenService(keys, config.jwt, clock);
    const sessions = new SessionService(accessTokens, { ...config.sessions, leadTtl: config.leads.sessionTtl }, clock);
    const oneTimeTokens = new OneTimeTokenService(config.tokens, keys.deriveSecret('reset-code'), clock);
    const signInGate = new SignInGate();
    const auth = new AuthService({ config, sql, clock, passwords, sessions, oneTimeTokens, signInGate, addressProofs: services.addressProofs! });
    const passwordFlows = new PasswordFlows({ config, passwords, sessions, oneTimeTokens, addressProofs: services.addressProofs! });
    return { keys, passwords, accessTokens, sessions, oneTimeTokens, auth, passwordFlows, signInGate };
  },
  // Reset and resend requests are decided by the mail worker, after the answer.
  onStart: async (services) => services.mailWorker.handleDeferred({ ...services.auth.deferredMail, ...services.passwordFlows.deferredMail }),
});
