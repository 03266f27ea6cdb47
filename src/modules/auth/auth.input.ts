import { Field, InputType } from 'type-graphql';
import { MaxLength, Secret } from '../../graphql/input-guard';

// Lengths here only bound the payload; the rules (format, policy) live in the services so that
// every entry point applies them the same way. 4096 code units cover 1024 characters of any kind.
const PASSWORD_BYTES = 4096;

@InputType({ description: 'A new account. A field that breaks its rule fails with BAD_USER_INPUT naming that field.' })
export class SignUpInput {
  @Field({
    description:
      'Where the verification link goes; stored trimmed and lower-cased. BAD_USER_INPUT unless it looks like name@example.com (at most 254 characters).',
  })
  @MaxLength(320)
  email!: string;

  @Field({
    description: '2–20 lower-case letters, digits and underscores (upper case is folded). Public; CONFLICT when taken.',
  })
  @MaxLength(64)
  username!: string;

  @Field({
    description: 'Display name, 2–50 characters after trimming; control characters and bidirectional overrides are refused.',
  })
  @MaxLength(200)
  name!: string;

  @Secret()
  @Field({ description: '8–1024 characters. BAD_USER_INPUT for a common password, or one equal to the email or username.' })
  @MaxLength(PASSWORD_BYTES)
  password!: string;
}

@InputType({ description: 'The credentials for logIn.' })
export class LogInInput {
  @Field({ description: 'A username or an email address, in any case.' })
  @MaxLength(320)
  usernameOrEmail!: string;

  @Secret()
  @Field({ description: "The account's password, exactly as set." })
  @MaxLength(PASSWORD_BYTES)
  password!: string;
}

@InputType({ description: 'Either `token` (from the emailed link) or `email` with `code`, plus the new password.' })
export class ResetPasswordInput {
  @Field({
    nullable: true,
    description: 'The `token` parameter of the link in the reset email. Single-use; it lasts an hour by default.',
  })
  @MaxLength(256)
  token?: string;

  @Field({ nullable: true, description: 'The address the reset email went to; give it together with `code`.' })
  @MaxLength(320)
  email?: string;

  @Field({
    nullable: true,
    description:
      'The 6-digit code from the reset email. It lasts 10 minutes at most and is void after a few wrong guesses; the link in that email still works.',
  })
  @MaxLength(16)
  code?: string;

  @Secret()
  @Field({
    description: 'The new password, under the rules of sign-up: 8–1024 characters, not common, not the email or username.',
  })
  @MaxLength(PASSWORD_BYTES)
  newPassword!: string;
}

@InputType({ description: 'The current password, to prove it is the user, and the new one.' })
export class ChangePasswordInput {
  @Secret()
  @Field(() => String, {
    nullable: true,
    description:
      'The password in use now: required when the account has one (BAD_USER_INPUT without it, INVALID_CREDENTIALS when wrong). Leave it out only to set a first password on an account made by a login link.',
  })
  @MaxLength(PASSWORD_BYTES)
  currentPassword?: string | null;

  @Secret()
  @Field({
    description: 'The new password, under the rules of sign-up and different from the current one; BAD_USER_INPUT otherwise.',
  })
  @MaxLength(PASSWORD_BYTES)
  newPassword!: string;
}
