import { defineModule } from '../module';
import { MfaChallenge } from './mfa-challenge.entity';
import { MfaCodes } from './mfa-codes';
import { MfaLogIn } from './mfa-login.service';
import { MfaResolver } from './mfa.resolver';
import { eraseTwoFactor, MfaService } from './mfa.service';
import { Migration20261129200000 } from './Migration20261129200000';
import { RecoveryCode } from './recovery-code.entity';
import { TotpCredential } from './totp-credential.entity';
import { TotpKey } from './totp-key';

declare module '../module' {
  interface AppServices {
    /** A signed-in account's two-factor settings, and staff's way to turn it off. */
    mfa: MfaService;
    /** The second step every way in asks for (plugged into signInGate), and completeMfaLogIn. */
    mfaLogIn: MfaLogIn;
  }
}

export const mfaModule = defineModule({
  name: 'mfa',
  entities: [TotpCredential, RecoveryCode, MfaChallenge],
  migrations: [{ name: 'Migration20261129200000', class: Migration20261129200000 }],
  resolvers: [MfaResolver],
  services({ config, logger, sql, clock, services }) {
    const codes = new MfaCodes(TotpKey.load(config, logger));
    const sessions = services.sessions!;
    const mfaLogIn = new MfaLogIn({ sql, clock, sessions, codes, publicUrl: config.publicUrl });
    // From now on logIn, logInWithLink and completeOidcLogin ask for the second step.
    services.signInGate!.use(mfaLogIn);
    // Two-factor set up on an account whose address was never proved is its maker's: the owner's
    // first proof of the address removes it, or it would lock the owner out.
    services.addressProofs!.onFirstProof(async (tx, user) => {
      await eraseTwoFactor(tx, user.id);
      user.totpEnabledAt = null; // the proving way in asks the gate of this very entity
    });
    return { mfa: new MfaService({ config, clock, sessions, codes }), mfaLogIn };
  },
});
