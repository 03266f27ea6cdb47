import { LockMode, type FilterQuery } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import DataLoader from 'dataloader';
import { badInput, notFound } from '../../common/errors';
import { isUuid } from '../../common/ids';
import type { Page } from '../../graphql/connection';
import { newestFirstPage } from '../../db/newest-first';
import type { Context } from '../../graphql/context';
import { Assessment } from '../assessments/assessment.entity';
import type { RiskLevel } from '../assessments/template.types';
import { changesBetween, eraseAuditSubject, type AdminAudit } from '../audit/audit';
import type { LeadFilter, UpdateLeadInput } from './lead-admin.input';
import type { LeadRecord } from './lead-admin.type';
import { Lead } from './lead.entity';
import { escapeLike } from '../../common/text';
import { optionalText } from './lead.rules';
import { LoginLink } from './login-link.entity';

export const NOTES_MAX = 5000;

export interface LeadScore {
  assessmentId: string;
  percentageScore: number;
  riskLevel: RiskLevel;
  completedAt: Date;
}

export function toLeadRecord(lead: Lead): LeadRecord {
  return {
    id: lead.id,
    email: lead.email,
    fullName: lead.fullName,
    companyName: lead.companyName,
    jobTitle: lead.jobTitle,
    phone: lead.phone,
    companySize: lead.companySize,
    industry: lead.industry,
    source: lead.source,
    locale: lead.locale,
    marketingConsent: lead.marketingConsent,
    marketingConsentAt: lead.marketingConsentAt,
    status: lead.status,
    notes: lead.notes,
    capturedAt: lead.createdAt,
    convertedAt: lead.convertedAt,
    convertedUserId: lead.convertedUser?.id ?? null,
  };
}

/** The conditions of a filter; a field that is null, absent or blank does not narrow. */
export function leadWhere(filter: LeadFilter | null | undefined): FilterQuery<Lead>[] {
  const where: FilterQuery<Lead>[] = [];
  if (!filter) return where;
  const text = (value: string | null | undefined) => value?.trim().normalize('NFC') || null;
  const search = text(filter.search);
  if (search) {
    const like = `%${escapeLike(search)}%`;
    where.push({ $or: [{ email: { $ilike: like } }, { fullName: { $ilike: like } }, { companyName: { $ilike: like } }] });
  }
  const source = text(filter.source);
  if (source) where.push({ source: { $ilike: escapeLike(source) } });
  const industry = text(filter.industry);
  if (industry) where.push({ industry: { $ilike: escapeLike(industry) } });
  if (filter.status) where.push({ status: filter.status });
  if (typeof filter.marketingConsent === 'boolean') where.push({ marketingConsent: filter.marketingConsent });
  if (typeof filter.converted === 'boolean') where.push({ convertedAt: filter.converted ? { $ne: null } : null });
  if (filter.capturedAfter) where.push({ createdAt: { $gte: filter.capturedAfter } });
  if (filter.capturedBefore) where.push({ createdAt: { $lt: filter.capturedBefore } });
  return where;
}

/** The staff side of leads: the list, changes by staff, and erasure. */
export class LeadAdminService {
  /** One page of leads, newest first, with the number matching the filter. */
  page(em: EntityManager, filter: LeadFilter | null | undefined, first: number | null | undefined, after: string | null | undefined): Promise<Page<LeadRecord>> {
    return newestFirstPage(em, Lead, () => leadWhere(filter), first, after, toLeadRecord);
  }


  /** Sets a lead's status and notes; the change and the audit commit together. NOT_FOUND for no such lead. */
  async update(em: EntityManager, id: string, input: UpdateLeadInput, audit: AdminAudit): Promise<LeadRecord> {
    if (!isUuid(id)) throw notFound('Lead', 'id');
    const changes: Partial<Pick<Lead, 'status' | 'notes'>> = {};
    if (input.status === null) throw badInput('status', 'status: cannot be null.');
    if (input.status !== undefined) changes.status = input.status;
    if (input.notes !== undefined) changes.notes = optionalText(input.notes, 'notes', NOTES_MAX, { multiline: true });
    return em.transactional(async (tx) => {
      const lead = await tx.findOne(Lead, id, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!lead) throw notFound('Lead', 'id');
      const before = { status: lead.status, notes: lead.notes };
      Object.assign(lead, changes);
      audit.record(tx, { targetType: 'lead', targetId: id, changes: changesBetween(before, { status: lead.status, notes: lead.notes }) });
      return toLeadRecord(lead);
    });
  }

  /**
   * Erases a lead: the row, its sessions and login links, the assessments still its own, and the
   * personal data in audit events about it. Assessments that moved to an account at conversion
   * stay with the account (their lead_id is set null). NOT_FOUND for no such lead.
   */
  async erase(em: EntityManager, id: string, audit: AdminAudit): Promise<true> {
    if (!isUuid(id)) throw notFound('Lead', 'id');
    return em.transactional(async (tx) => {
      const [lead] = await tx.execute<Array<{ converted: boolean }>>(`select converted_at is not null as converted from leads where id = ? for update`, [id]);
      if (!lead) throw notFound('Lead', 'id');
      const assessments = await tx.nativeDelete(Assessment, { lead: id, user: null });
      await tx.nativeDelete(LoginLink, { lead: id });
      await eraseAuditSubject(tx, id);
      await tx.nativeDelete(Lead, { id }); // its lead sessions go with it (on delete cascade)
      // Counts only: the erased lead's data stays out of its own deletion's record.
      audit.record(tx, { targetType: 'lead', targetId: id, changes: { converted: Boolean(lead.converted), assessmentsErased: assessments } });
      return true as const;
    });
  }
}

/** This request's loaders for the fields of a lead page: one statement each, whatever the page's size. */
export function leadLoaders(ctx: Pick<Context, 'em' | 'loader'>) {
  return ctx.loader('leads.admin', () => ({
    // A lead's assessments keep its lead_id when they move to the account at conversion.
    latestScores: new DataLoader<string, LeadScore | null>(async (ids) => {
      const rows = await ctx.em.execute<Array<{ leadId: string; assessmentId: string; percentageScore: number; riskLevel: RiskLevel; completedAt: Date | string }>>(
        `select distinct on (a.lead_id) a.lead_id as "leadId", a.id as "assessmentId", a.percentage_score as "percentageScore",
                a.risk_level as "riskLevel", a.completed_at as "completedAt"
           from assessments a
          where a.lead_id in (${ids.map(() => '?').join(', ')}) and a.status = 'COMPLETED' and a.deleted_at is null
          order by a.lead_id, a.completed_at desc, a.id desc`,
        [...ids],
      );
      const byLead = new Map(rows.map((r) => [r.leadId, { ...r, completedAt: new Date(r.completedAt) }]));
      return ids.map((id) => byLead.get(id) ?? null);
    }),
  }));
}
