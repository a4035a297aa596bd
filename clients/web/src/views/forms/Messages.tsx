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

export function AlertMessage({ message }: { message: string }) {
  return (
    <div class="alert-message" role="alert">
      {message && (
        <p>
          <strong>L'envoi n'a pas abouti.</strong> {message}
        </p>
      )}
    </div>
  );
}
