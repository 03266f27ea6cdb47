import { MaxLength } from 'class-validator';
import { Field, InputType } from 'type-graphql';

// Lengths here only bound the payload; the rules (format, policy) live in the services so that
// every entry point applies them the same way. 4 KiB covers 1024 characters of any kind.
const PASSWORD_BYTES = 4096;

@InputType()
export class SignUpInput {
  @Field()
  @MaxLength(320)
  email!: string;

  @Field()
  @MaxLength(64)
  username!: string;

  @Field()
  @MaxLength(200)
  name!: string;

  @Field()
  @MaxLength(PASSWORD_BYTES)
  password!: string;
}

@InputType()
export class LogInInput {
  @Field({ description: 'A username or an email address, in any case.' })
  @MaxLength(320)
  usernameOrEmail!: string;

  @Field()
  @MaxLength(PASSWORD_BYTES)
  password!: string;
}

@InputType({ description: 'Either `token` (from the emailed link) or `email` with `code`, plus the new password.' })
export class ResetPasswordInput {
  @Field({ nullable: true })
  @MaxLength(256)
  token?: string;

  @Field({ nullable: true })
  @MaxLength(320)
  email?: string;

  @Field({ nullable: true })
  @MaxLength(16)
  code?: string;

  @Field()
  @MaxLength(PASSWORD_BYTES)
  newPassword!: string;
}

@InputType()
export class ChangePasswordInput {
  @Field()
  @MaxLength(PASSWORD_BYTES)
  currentPassword!: string;

  @Field()
  @MaxLength(PASSWORD_BYTES)
  newPassword!: string;
}
