import { defineModule } from '../module';
import { Assessment } from './assessment.entity';
import { AssessmentQueries } from './assessment.queries';
import { AssessmentFieldsResolver, AssessmentResolver } from './assessment.resolver';
import { AssessmentService } from './assessment.service';
import { bundledTemplates } from './content';
import { Migration20261129160200 } from './Migration20261129160200';
import { TemplateCatalog } from './template.catalog';
import { AssessmentTemplate, QuestionOptionRow, TemplateCategory, TemplateQuestion } from './template.entity';
import { QuestionFieldsResolver, QuestionOptionFieldsResolver, TemplateResolver } from './template.resolver';
import { seedTemplates } from './template.seeder';
import { SubmissionService } from './submission.service';
import { TemplateAdminResolver } from './template-admin.resolver';
import { TemplateAdminService } from './template-admin.service';
import { TemplateEditService } from './template-edit.service';

declare module '../module' {
  interface AppServices {
    catalog: TemplateCatalog;
    assessments: AssessmentService;
    assessmentQueries: AssessmentQueries;
    submissions: SubmissionService;
    templateAdmin: TemplateAdminService;
    templateEdits: TemplateEditService;
  }
}

export const assessmentsModule = defineModule({
  name: 'assessments',
  entities: [AssessmentTemplate, TemplateCategory, TemplateQuestion, QuestionOptionRow, Assessment],
  migrations: [{ name: 'Migration20261129160200', class: Migration20261129160200 }],
  resolvers: [
    TemplateResolver,
    QuestionFieldsResolver,
    QuestionOptionFieldsResolver,
    TemplateAdminResolver,
    AssessmentResolver,
    AssessmentFieldsResolver,
  ],
  services({ config, sql, clock, services }) {
    const catalog = new TemplateCatalog(sql);
    const assessments = new AssessmentService({ config, catalog, clock });
    const submissions = new SubmissionService({ config, sql, catalog, keys: services.keys!, clock });
    return {
      catalog,
      assessments,
      submissions,
      assessmentQueries: new AssessmentQueries(),
      templateAdmin: new TemplateAdminService({ catalog, clock }),
      templateEdits: new TemplateEditService(),
    };
  },
  // The bundled templates, each version loaded once (on any instance) and never changed after.
  onStart: async (_services, { orm, clock, logger }) => {
    await seedTemplates(orm, bundledTemplates(), clock, logger);
  },
});
