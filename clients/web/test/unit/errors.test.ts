/* net/errors.ts: a French sentence for every error code and link failure. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ErrorCode } from "../../src/gen/veille/v1/error_pb";
import { closeReason, errorMessage, isOffline, messageFor, VeilleError } from "../../src/net/errors";

test("every server code has its own sentence", () => {
  const codes = Object.values(ErrorCode).filter(
    (c): c is ErrorCode => typeof c === "number" && c !== ErrorCode.UNSPECIFIED,
  );
  assert.equal(codes.length, 16);
  for (const c of codes) assert.notEqual(messageFor(c), messageFor(ErrorCode.UNSPECIFIED), ErrorCode[c]);
  assert.equal(messageFor(ErrorCode.PAIRING_INVALID), "Code d'appairage inconnu, expiré ou déjà utilisé.");
  assert.equal(messageFor(ErrorCode.NO_PLACE), "Cette place n'est plus libre.");
  assert.equal(messageFor(ErrorCode.CLOSED), "Cette demande ou proposition est close, expirée ou déjà décidée.");
  assert.equal(messageFor(99 as ErrorCode), "Erreur inattendue du serveur.");
});

test("RATE_LIMITED and UNAVAILABLE say when to try again", () => {
  assert.equal(new VeilleError(ErrorCode.RATE_LIMITED, 41_200).message, "Trop de tentatives. Réessayez dans 42 s.");
  assert.equal(messageFor(ErrorCode.RATE_LIMITED), "Trop de tentatives. Réessayez dans un instant.");
  assert.match(messageFor(ErrorCode.UNAVAILABLE, 500), /dans 1 s\.$/);
});

test("link failures are offline; server refusals are not", () => {
  for (const f of ["offline", "timeout", "lost", "protocol"] as const) {
    const e = new VeilleError(f);
    assert.ok(isOffline(e), f);
    assert.ok(e.message.length > 10);
  }
  assert.equal(isOffline(new VeilleError(ErrorCode.FORBIDDEN)), false);
  assert.equal(isOffline(new Error("x")), false);
});

test("errorMessage: a VeilleError, an op's refusal, anything else", () => {
  const e = new VeilleError(ErrorCode.FORBIDDEN, 0, "op written as another team");
  assert.equal(errorMessage(e), "Action non autorisée pour votre rôle ou votre structure.");
  assert.equal(e.detail, "op written as another team");
  assert.equal(errorMessage({ code: ErrorCode.NO_PLACE, message: "held" }), "Cette place n'est plus libre.");
  assert.equal(errorMessage(new TypeError("boom")), "Erreur inattendue.");
  assert.equal(errorMessage(null), "Erreur inattendue.");
});

test("close codes", () => {
  assert.equal(closeReason(1001), "Le serveur redémarre ou s'arrête.");
  assert.equal(closeReason(1006), "Serveur injoignable ou connexion perdue.");
});
