/* Typed errors of the protocol client, and the French words the desk shows for them.
 *
 * A VeilleError is either the server's Error (its ErrorCode, docs/protocol.md "Errors"), or a
 * failure of the link itself: "offline" (asked while not connected), "timeout" (no answer in
 * time: the connection was dropped), "lost" (the connection ended before the answer),
 * "protocol" (the server sent something this client cannot read). After a link failure the
 * outcome of a request is unknown: a push is sent again with the same op ids (docs/sync.md).
 * The server's own message (short English, never a record's value) is kept as `detail`, for
 * logs; `message` is the French sentence for the user. */
import { ErrorCode } from "../gen/veille/v1/error_pb";

export type LinkFailure = "offline" | "timeout" | "lost" | "protocol";
export type ErrorKind = ErrorCode | LinkFailure;

export class VeilleError extends Error {
  constructor(
    readonly code: ErrorKind,
    readonly retryAfterMs = 0,
    readonly detail = "",
  ) {
    super(messageFor(code, retryAfterMs));
    this.name = "VeilleError";
  }
}

function inSeconds(ms: number): string {
  return ms > 0 ? `dans ${Math.ceil(ms / 1000)} s` : "dans un instant";
}

/** The French sentence for an error code or a link failure; retryAfterMs for RATE_LIMITED
 * and UNAVAILABLE. */
export function messageFor(code: ErrorKind, retryAfterMs = 0): string {
  switch (code) {
    case "offline":
      return "Hors ligne : la demande n'a pas été envoyée. Réessayez quand la connexion sera rétablie.";
    case "timeout":
      return "Le serveur ne répond pas. Reconnexion en cours.";
    case "lost":
      return "La connexion au serveur a été perdue. Reconnexion en cours.";
    case "protocol":
      return "Réponse du serveur illisible. Rechargez la page ; si cela persiste, prévenez l'administrateur.";
    case ErrorCode.MALFORMED:
    case ErrorCode.UNKNOWN_BODY:
      return "Le serveur n'a pas compris la demande. Rechargez la page.";
    case ErrorCode.LIMIT_EXCEEDED:
      return "Demande trop volumineuse : un texte ou une liste dépasse la limite.";
    case ErrorCode.INVALID_ARGUMENT:
      return "Une valeur n'est pas acceptée par le serveur. Vérifiez la saisie.";
    case ErrorCode.UNSUPPORTED_VERSION:
      return "Cette version de l'application n'est plus acceptée par le serveur. Rechargez la page.";
    case ErrorCode.NOT_AUTHENTICATED:
    case ErrorCode.BAD_STATE:
      return "Session interrompue avec le serveur. Reconnectez-vous.";
    case ErrorCode.AUTH_FAILED:
      return "Authentification refusée : ce navigateur n'est pas reconnu par le serveur. Demandez un nouveau code d'appairage.";
    case ErrorCode.RATE_LIMITED:
      return `Trop de tentatives. Réessayez ${inSeconds(retryAfterMs)}.`;
    case ErrorCode.PAIRING_INVALID:
      return "Code d'appairage inconnu, expiré ou déjà utilisé.";
    case ErrorCode.DEVICE_REVOKED:
      return "Cet appareil ou ce compte a été révoqué. Demandez un nouveau code d'appairage à l'administrateur.";
    case ErrorCode.FORBIDDEN:
      return "Action non autorisée pour votre rôle ou votre structure.";
    case ErrorCode.INTERNAL:
      return "Erreur du serveur : rien n'a été enregistré. Réessayez.";
    case ErrorCode.UNAVAILABLE:
      return `Serveur momentanément indisponible. Réessayez ${inSeconds(retryAfterMs)}.`;
    case ErrorCode.NO_PLACE:
      return "Cette place n'est plus libre.";
    case ErrorCode.CLOSED:
      return "Cette demande ou proposition est close, expirée ou déjà décidée.";
    default:
      return "Erreur inattendue du serveur.";
  }
}

/** The French sentence for anything a request can fail with: a VeilleError, or an op's
 * refusal ({ code } of an OpResult); anything else is unexpected. */
export function errorMessage(e: unknown): string {
  if (e instanceof VeilleError) return e.message;
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "number" ? messageFor(code) : "Erreur inattendue.";
}

/** Whether e is a link failure: the request may not have reached the server; try again once
 * the link is live. */
export function isOffline(e: unknown): boolean {
  return e instanceof VeilleError && typeof e.code === "string";
}

/** Why the server closed the connection, in French (docs/protocol.md, "Close codes"). */
export function closeReason(code: number): string {
  switch (code) {
    case 1000:
      return "Connexion fermée.";
    case 1001:
      return "Le serveur redémarre ou s'arrête.";
    case 1002:
    case 1003:
      return "Échange illisible : connexion fermée par le serveur.";
    case 1008:
      return "Connexion refusée par le serveur.";
    case 1009:
      return "Message trop volumineux : connexion fermée par le serveur.";
    case 1011:
      return "Erreur interne du serveur.";
    default:
      return "Serveur injoignable ou connexion perdue.";
  }
}
