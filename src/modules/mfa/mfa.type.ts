import { Field, ObjectType } from 'type-graphql';

@ObjectType({ simpleResolvers: true, description: 'A pending two-factor enrollment: show it once, then confirm it with a code (confirmTotpEnrollment).' })
export class TotpEnrollment {
  @Field({ description: 'The shared secret in base32, for typing into an authenticator app by hand. Shown only now.' })
  secret!: string;

  @Field({ description: 'The otpauth:// URI of the secret (issuer Posture, the account email as label), as a QR code carries it.' })
  otpauthUrl!: string;

  @Field({ description: 'The otpauth URI as a QR code: an SVG document to show as it is.' })
  qrSvg!: string;
}

@ObjectType({ simpleResolvers: true, description: 'New recovery codes. Shown only now; each works once, in place of a TOTP code.' })
export class RecoveryCodes {
  @Field(() => [String], { description: 'Ten codes, `xxxxx-xxxxx`; case, spaces and the dash do not matter when one is typed.' })
  codes!: string[];
}
