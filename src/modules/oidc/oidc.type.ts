import { Field, ObjectType } from 'type-graphql';

@ObjectType({ simpleResolvers: true, description: 'An OpenID Connect provider a login page may offer.' })
export class AuthProvider {
  @Field({ description: 'The id to pass as `provider` (OIDC_PROVIDERS).' })
  id!: string;

  @Field({ description: 'The name to show, e.g. "Google".' })
  name!: string;
}

@ObjectType({ simpleResolvers: true, description: 'An authorization to send the browser to.' })
export class OidcStart {
  @Field({ description: "The provider's authorization URL: redirect the browser there." })
  authorizationUrl!: string;

  @Field({
    description:
      'The same random state the URL carries; the redirect back must carry it. Single-use, 10 minutes. Keep it (e.g. in session storage) to check the redirect against.',
  })
  state!: string;
}

@ObjectType({ simpleResolvers: true, description: "A provider login linked to the account." })
export class LinkedIdentity {
  @Field({ description: 'The configured provider id.' })
  provider!: string;

  @Field(() => String, { nullable: true, description: 'The address the provider gave when it was last used; null if it gave none.' })
  email!: string | null;

  @Field({ description: 'When it was linked.' })
  linkedAt!: Date;
}
