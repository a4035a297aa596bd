/* The day's activity indicators of the territory (docs/orientations.md, "Statistics"): the
 * counts veilled keeps for the préfet, aggregates only. A compact strip of figures, each with
 * its words; refusals open onto their motives. Refreshed by the state layer (every 30 s and
 * after a change); the time of the figures is always shown. */
import type { Indicators as IndicatorValues, RefusalMotive } from "../../state/model";
import type { Observable } from "../../state/observable";
import { useValue } from "../useValue";
import { formatDate, formatTime, MOTIVE_LABEL } from "../../state/labels";
import "./indicators.css";

export interface IndicatorsProps {
  indicators: Observable<IndicatorValues>;
  /** also the maraudes' encounters of the day (supervision) */
  withEncounters?: boolean;
}

const MOTIVES: RefusalMotive[] = [1, 2, 3, 4, 5, 6];

function Figure({ label, value, note, tone }: { label: string; value: number; note?: string; tone?: "warn" }) {
  return (
    <div class={`ind${tone && value > 0 ? ` ind--${tone}` : ""}`}>
      <dt class="ind__label">{label}</dt>
      <dd class="ind__value">
        {value}
        {note && <span class="ind__note">{note}</span>}
      </dd>
    </div>
  );
}

export function Indicators({ indicators, withEncounters = false }: IndicatorsProps) {
  const v = useValue(indicators);
  const when = v.fetchedAt ? `au ${formatDate(v.fetchedAt)} à ${formatTime(v.fetchedAt)}` : "";
  return (
    <section class="indicators" aria-labelledby="indicators-title" aria-busy={!v.loaded}>
      <h2 id="indicators-title" class="indicators__title">
        Indicateurs du jour
        {when && <span class="indicators__when"> {when}</span>}
      </h2>
      {!v.loaded ? (
        <p class="indicators__loading">Chargement des indicateurs…</p>
      ) : (
        <dl class="indicators__list">
          <Figure label="Demandes" value={v.requests} />
          <Figure label="Non pourvues" value={v.unmet} tone="warn" />
          <Figure label="Propositions" value={v.proposals} />
          <Figure
            label="Admissions"
            value={v.admissions + v.emergencyAdmissions}
            note={v.emergencyAdmissions ? `dont ${v.emergencyAdmissions} en urgence` : undefined}
          />
          <div class="ind">
            <dt class="ind__label">Refus motivés</dt>
            <dd class="ind__value">
              {v.refusals}
              {v.refusals > 0 && (
                <details class="ind__details">
                  <summary>
                    par motif<span class="visually-hidden"> de refus</span>
                  </summary>
                  <ul>
                    {MOTIVES.filter((m) => v.refusalsByMotive[m]).map((m) => (
                      <li key={m}>
                        <span class="ind__count">{v.refusalsByMotive[m]}</span> {MOTIVE_LABEL[m]}
                      </li>
                    ))}
                  </ul>
                </details>
              )}
            </dd>
          </div>
          <Figure label="Propositions expirées" value={v.proposalsExpired} />
          {withEncounters && <Figure label="Rencontres des maraudes" value={v.encounters} />}
        </dl>
      )}
    </section>
  );
}
