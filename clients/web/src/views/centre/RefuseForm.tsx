/* Refusing a proposal (R345-4: a refusal states its reasons expressly, and is notified to the
 * SIAO and to the requester). The form will not send without a motive from the list AND a
 * written motive: GOV.UK error summary at the top (focused), the message beside each field. */
import { useState } from "preact/hooks";
import type { Desk, ProposalView, RefusalMotive } from "../../state/model";
import { CATEGORY_LABEL, MOTIVE_LABEL } from "../../state/labels";
import { optionId, RadioGroup, type Option } from "../forms/Choices";
import { ErrorSummary, errorFor, type FieldError } from "../forms/ErrorSummary";
import { TextArea } from "../forms/Field";
import { AlertMessage } from "../forms/Messages";
import { useAction } from "../forms/useAction";

const MOTIVES: Option<RefusalMotive>[] = ([1, 2, 3, 4, 5, 6] as RefusalMotive[]).map((m) => ({ value: m, label: MOTIVE_LABEL[m] }));

export const MISSING_MOTIVE = "Indiquez le motif du refus.";
export const MISSING_MOTIVE_TEXT =
  "Précisez le motif du refus : il est transmis au SIAO et au demandeur (article R345-4 du CASF).";

export interface RefuseFormProps {
  desk: Desk;
  proposal: ProposalView;
  /** The refusal was recorded: `message` says so (the card goes away with the next delta). */
  onDone(message: string): void;
  onCancel(): void;
}

export function RefuseForm({ desk, proposal, onDone, onCancel }: RefuseFormProps) {
  const [motive, setMotive] = useState<RefusalMotive | null>(null);
  const [text, setText] = useState("");
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [attempt, setAttempt] = useState(0);
  const act = useAction();
  const pid = proposal.id;
  const motiveGroup = `refuse-motive-${pid}`;
  const motiveTarget = optionId(motiveGroup, MOTIVES[0]!.value);
  const textId = `refuse-text-${pid}`;

  const submit = async (e: Event) => {
    e.preventDefault();
    const errs: FieldError[] = [];
    if (motive === null) errs.push({ target: motiveTarget, message: MISSING_MOTIVE });
    if (!text.trim()) errs.push({ target: textId, message: MISSING_MOTIVE_TEXT });
    setErrors(errs);
    if (errs.length) {
      act.clear();
      setAttempt((a) => a + 1);
      return;
    }
    const o = await act.run(
      () => desk.actions.refuse(pid, motive!, text.trim()),
      () => "",
    );
    if (o?.ok)
      onDone(`Refus transmis au SIAO avec son motif. La place « ${CATEGORY_LABEL[proposal.category]} » est de nouveau libre.`);
  };

  return (
    <form class="decide decide--refuse" onSubmit={submit} noValidate aria-labelledby={`refuse-title-${pid}`}>
      <h4 class="decide__title" id={`refuse-title-${pid}`}>
        Refuser la proposition
      </h4>
      <ErrorSummary errors={errors} focusKey={attempt} level={4} />
      <RadioGroup
        idPrefix={motiveGroup}
        legend="Motif du refus"
        options={MOTIVES}
        value={motive}
        error={errorFor(errors, motiveTarget)}
        onChange={(m) => {
          setMotive(m);
          setErrors((x) => x.filter((y) => y.target !== motiveTarget));
        }}
      />
      <TextArea
        id={textId}
        label="Motif détaillé (sera transmis au SIAO)"
        hint="Le SIAO et la structure qui a fait la demande le liront. Restez factuel : seulement ce qui explique la décision."
        error={errorFor(errors, textId)}
        value={text}
        rows={3}
        maxLength={1000}
        onInput={(v) => {
          setText(v);
          if (v.trim()) setErrors((x) => x.filter((y) => y.target !== textId));
        }}
      />
      <div class="button-group">
        <button type="submit" class="danger" aria-disabled={act.busy ? "true" : undefined}>
          {act.busy ? "Envoi en cours…" : "Refuser la proposition"}
        </button>
        <button type="button" class="link-button" onClick={onCancel}>
          Annuler
        </button>
      </div>
      <AlertMessage message={act.error} />
    </form>
  );
}
