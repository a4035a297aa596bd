/* Where a form says how it went. Both regions are always in the page (empty when silent), so
 * that screen readers announce what appears in them: a polite status for success ("Places
 * déclarées…"), an alert for a failure with the Outcome's French message. */
import "./forms.css";

export function StatusMessage({ message }: { message: string }) {
  return (
    <p class="status-message" role="status">
      {message}
    </p>
  );
}

/** lead: what did not happen, before the Outcome's message. */
export function AlertMessage({ message, lead = "L'envoi n'a pas abouti." }: { message: string; lead?: string }) {
  return (
    <div class="alert-message" role="alert">
      {message && (
        <p>
          <strong>{lead}</strong> {message}
        </p>
      )}
    </div>
  );
}
