/* The orientation workflow as the views show it (docs/orientations.md), derived from the
 * records held: requests with their proposals and decisions, the SIAO's queue, a centre's
 * incoming proposals and its stays' dates to watch. Only what the server sent is here: a
 * centre holds a request's DECISION fields, the SIAO everything but the requester's note.
 * And the other way: the Request record of a new shelter request, for the desk and the phone. */
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  DecisionKind,
  ProposalStatus as WireProposalStatus,
  type Decision,
  type Proposal,
  type Request,
  type RequestSchema,
} from "../gen/veille/v1/orientation_pb";
import type {
  AdmissionView,
  Category,
  NewRequest,
  Orientations,
  ProposalView,
  Refusal,
  RequestView,
  Reminder,
  RefusalMotive,
  Urgency,
} from "./model";
import type { Records } from "./records";

/* Most urgent first ("ce soir", then "dans les jours", then planned, then unspecified), then
 * oldest first: what a 115 coordinator looks for at 3 a.m. */
const URGENCY_RANK: Record<number, number> = { 1: 0, 2: 1, 3: 2, 0: 3 };

export interface OrientContext {
  structureId: string;
  isCentre: boolean;
  centreName(id: string): string;
}

export function deriveOrientations(rec: Records, ctx: OrientContext): Orientations {
  const decisionsByProposal = new Map<string, { id: string; d: Decision }>();
  for (const [id, { value }] of rec.decisions) if (value.proposalId) decisionsByProposal.set(value.proposalId, { id, d: value });

  const proposalsByRequest = new Map<string, ProposalView[]>();
  const allProposals: ProposalView[] = [];
  for (const [id, { value: p }] of rec.proposals) {
    const v = proposalView(id, p, decisionsByProposal.get(id), ctx);
    allProposals.push(v);
    const list = proposalsByRequest.get(p.requestId) ?? [];
    list.push(v);
    proposalsByRequest.set(p.requestId, list);
  }

  const requests: RequestView[] = [];
  const requestById = new Map<string, RequestView>();
  for (const [id, { value: r }] of rec.requests) {
    const v = requestView(id, r, proposalsByRequest.get(id) ?? []);
    requestById.set(id, v);
    requests.push(v);
  }
  requests.sort(
    (a, b) =>
      (URGENCY_RANK[a.urgency] ?? 9) - (URGENCY_RANK[b.urgency] ?? 9) || a.requestedAt - b.requestedAt || a.id.localeCompare(b.id),
  );

  const incoming = ctx.isCentre
    ? allProposals
        .filter((p) => p.centreId === ctx.structureId && p.status === "held")
        .sort((a, b) => a.holdUntil - b.holdUntil)
        .map((proposal) => ({ proposal, request: requestById.get(proposal.requestId) ?? null }))
    : [];

  const refusals: Refusal[] = allProposals
    .flatMap((p) => (p.refusal ? [p.refusal] : []))
    .sort((a, b) => b.decidedAt - a.decidedAt);

  const admissions: AdmissionView[] = [];
  for (const [id, { value: d }] of rec.decisions) {
    if (d.kind !== DecisionKind.ADMISSION && d.kind !== DecisionKind.EMERGENCY_ADMISSION) continue;
    if (ctx.isCentre && d.centreId !== ctx.structureId) continue;
    admissions.push(admissionView(id, d));
  }
  admissions.sort((a, b) => a.endAt - b.endAt);

  return { loaded: true, requests, incoming, refusals, admissions };
}

function proposalView(id: string, p: Proposal, dec: { id: string; d: Decision } | undefined, ctx: OrientContext): ProposalView {
  let status: ProposalView["status"] = p.status === WireProposalStatus.EXPIRED ? "expired" : "held";
  let refusal: Refusal | null = null;
  let admission: AdmissionView | null = null;
  if (dec?.d.kind === DecisionKind.REFUSAL) {
    status = "refused";
    refusal = {
      decisionId: dec.id,
      centreId: p.centreId,
      centreName: dec.d.centreName || ctx.centreName(p.centreId),
      motive: dec.d.motive as RefusalMotive,
      motiveText: dec.d.motiveText,
      decidedAt: Number(dec.d.decidedAtMs),
    };
  } else if (dec?.d.kind === DecisionKind.ADMISSION) {
    status = "admitted";
    admission = admissionView(dec.id, dec.d);
  }
  return {
    id,
    requestId: p.requestId,
    centreId: p.centreId,
    centreName: ctx.centreName(p.centreId),
    category: p.category as Category,
    holdUntil: Number(p.holdUntilMs),
    status,
    refusal,
    admission,
  };
}

function requestView(id: string, r: Request, proposals: ProposalView[]): RequestView {
  const pending = proposals.find((p) => p.status === "held") ?? null;
  const admitted = proposals.some((p) => p.status === "admitted");
  const history = proposals.filter((p) => p !== pending).sort((a, b) => b.holdUntil - a.holdUntil);
  return {
    id,
    household: {
      adults: r.householdAdults,
      children: r.householdChildren,
      reducedMobility: r.reducedMobility,
      animal: r.animal,
      languages: r.languages,
    },
    urgency: r.urgency as Urgency,
    categories: r.categories as Category[],
    requestedAt: Number(r.requestedAtMs),
    requesterId: r.requesterId,
    requesterName: r.requesterName || r.requesterId, /* empty on records stored before names */
    status: r.withdrawn ? "withdrawn" : admitted ? "admitted" : pending ? "proposed" : "waiting",
    pending,
    history,
    personId: r.personId || null,
  };
}

function admissionView(id: string, d: Decision): AdmissionView {
  return {
    decisionId: id,
    proposalId: d.proposalId,
    category: d.category as Category,
    startAt: Number(d.startMs),
    endAt: Number(d.endMs),
    reminders: d.reminders.map((r): Reminder => ({ kind: r.kind as Reminder["kind"], dueAt: Number(r.dueMs) })),
    emergency: d.kind === DecisionKind.EMERGENCY_ADMISSION,
  };
}

/** The SIAO's queue: open requests (waiting or with a proposal pending). */
export function openRequests(o: Orientations): RequestView[] {
  return o.requests.filter((r) => r.status === "waiting" || r.status === "proposed");
}

/** The Request record of a new shelter request (the server sets its requester, author,
 * territory and date). */
export function requestRecord(r: NewRequest): MessageInitShape<typeof RequestSchema> {
  return {
    personId: r.personId,
    householdAdults: r.household.adults,
    householdChildren: r.household.children,
    reducedMobility: r.household.reducedMobility,
    animal: r.household.animal,
    languages: r.household.languages.trim(),
    urgency: r.urgency,
    categories: r.categories,
    note: r.note.trim(),
  };
}
