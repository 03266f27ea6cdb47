import { Migration } from '@mikro-orm/migrations';

/** Versioned assessment templates and the assessments taken on them. */
export class Migration20261129160200 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "assessment_templates" ("id" uuid not null, "created_at" timestamptz not null, "slug" varchar(64) not null, "locale" varchar(8) not null, "version" int not null, "name" varchar(200) not null, "description" text null, "status" varchar(16) not null default 'PUBLISHED', "checksum" varchar(64) null, "published_at" timestamptz null, constraint "assessment_templates_pkey" primary key ("id"));`);
    this.addSql(`alter table "assessment_templates" add constraint "assessment_templates_slug_version_unique" unique ("slug", "version");`);
    this.addSql(`create table "template_categories" ("id" uuid not null, "created_at" timestamptz not null, "template_id" uuid not null, "name" varchar(200) not null, "description" text null, "weight" double precision not null, "position" int not null, constraint "template_categories_pkey" primary key ("id"));`);
    this.addSql(`create index "template_categories_template_id_index" on "template_categories" ("template_id");`);
    this.addSql(`create table "template_questions" ("id" uuid not null, "created_at" timestamptz not null, "category_id" uuid not null, "text" text not null, "help_text" text null, "kind" varchar(16) not null, "weight" double precision not null, "position" int not null, "allows_not_applicable" boolean not null default false, "recommendation" text not null, "nist" jsonb not null, "cis" jsonb not null default '[]', constraint "template_questions_pkey" primary key ("id"));`);
    this.addSql(`create index "template_questions_category_id_index" on "template_questions" ("category_id");`);
    this.addSql(`create table "question_options" ("id" uuid not null, "created_at" timestamptz not null, "question_id" uuid not null, "label" text not null, "points" double precision not null, "position" int not null, constraint "question_options_pkey" primary key ("id"));`);
    this.addSql(`create index "question_options_question_id_index" on "question_options" ("question_id");`);
    this.addSql(`create table "assessments" ("id" uuid not null, "created_at" timestamptz not null, "user_id" uuid null, "lead_id" uuid null, "template_id" uuid not null, "status" varchar(16) not null default 'IN_PROGRESS', "answers" jsonb not null default '{}', "total_score" double precision null, "max_possible_score" double precision null, "percentage_score" double precision null, "risk_level" varchar(16) null, "category_scores" jsonb null, "recommendations" jsonb null, "insights" text null, "started_at" timestamptz not null, "completed_at" timestamptz null, "share_token_hash" varchar(64) null, "shared_at" timestamptz null, "attestation" text null, "deleted_at" timestamptz null, constraint "assessments_pkey" primary key ("id"));`);
    this.addSql(`create index "assessments_template_id_index" on "assessments" ("template_id");`);
    this.addSql(`alter table "assessments" add constraint "assessments_share_token_hash_unique" unique ("share_token_hash");`);
    this.addSql(`create index "assessments_lead_index" on "assessments" ("lead_id");`);
    this.addSql(`create index "assessments_user_created_index" on "assessments" ("user_id", "created_at");`);
    this.addSql(`alter table "template_categories" add constraint "template_categories_template_id_foreign" foreign key ("template_id") references "assessment_templates" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "template_questions" add constraint "template_questions_category_id_foreign" foreign key ("category_id") references "template_categories" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "question_options" add constraint "question_options_question_id_foreign" foreign key ("question_id") references "template_questions" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "assessments" add constraint "assessments_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "assessments" add constraint "assessments_lead_id_foreign" foreign key ("lead_id") references "leads" ("id") on update cascade on delete set null;`);
    this.addSql(`alter table "assessments" add constraint "assessments_template_id_foreign" foreign key ("template_id") references "assessment_templates" ("id") on update cascade;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "assessments" cascade;`);
    this.addSql(`drop table if exists "question_options" cascade;`);
    this.addSql(`drop table if exists "template_questions" cascade;`);
    this.addSql(`drop table if exists "template_categories" cascade;`);
    this.addSql(`drop table if exists "assessment_templates" cascade;`);
  }
}
