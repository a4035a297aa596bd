/* The day's indicators, from the statistics veilled keeps (docs/orientations.md,
 * "Statistics"): aggregates only, never a person. */
import type { StatsResult } from "../gen/veille/v1/stats_pb";
import type { Indicators, RefusalMotive } from "./model";

/* RefusalMotive's names as stats details (the enum's names, lower case). */
const MOTIVE_BY_NAME: Record<string, RefusalMotive> = {
  public_non_adapte: 1,
  place_indisponible: 2,
  besoin_soins: 3,
  securite: 4,
  refus_personne: 5,
  autre: 6,
};

export const NO_INDICATORS: Indicators = {
  loaded: false,
  day: "",
  requests: 0,
  unmet: 0,
  proposals: 0,
  proposalsExpired: 0,
  admissions: 0,
  emergencyAdmissions: 0,
  refusals: 0,
  refusalsByMotive: {},
  encounters: 0,
  fetchedAt: 0,
};

export function indicatorsOf(r: StatsResult, fetchedAt: number): Indicators {
  const out: Indicators = { ...NO_INDICATORS, loaded: true, day: r.today, refusalsByMotive: {}, fetchedAt };
  for (const c of r.counts) {
    if (c.day !== r.today) continue;
    const n = Number(c.count);
    switch (c.indicator) {
      case "requests": out.requests += n; break;
      case "unmet_requests": out.unmet += n; break;
      case "proposals": out.proposals += n; break;
      case "proposals_expired": out.proposalsExpired += n; break;
      case "admissions": out.admissions += n; break;
      case "emergency_admissions": out.emergencyAdmissions += n; break;
      case "encounters": out.encounters += n; break;
      case "refusals": {
        out.refusals += n;
        const m = MOTIVE_BY_NAME[c.detail];
        if (m) out.refusalsByMotive[m] = (out.refusalsByMotive[m] ?? 0) + n;
        break;
      }
      default:
        break;
    }
  }
  return out;
}
