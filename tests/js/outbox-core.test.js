// The outbox state machine (static/js/outbox-core.js), under node's own test runner: `node --test tests/js`.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const core = require("../../static/js/outbox-core.js");

const T0 = Date.UTC(2026, 11, 2, 14, 0, 0);
const fresh = () => core.create({ id: "k-1", kind: "asb_incident" }, T0);
const sending = () => core.next(fresh(), { type: "send" }, T0);

test("a new item waits on the phone and is due at once", () => {
  const item = fresh();
  assert.equal(item.state, "queued");
  assert.equal(item.attempts, 0);
  assert.ok(core.isDue(item, T0));
});

test("sending counts the try; only a queued item can start one", () => {
  const item = sending();
  assert.equal(item.state, "sending");
  assert.equal(item.attempts, 1);
  assert.equal(core.next(item, { type: "send" }, T0), item, "a second send of the same item is ignored");
});

test("201 and 200 (a replay) make it sent, with the server's link, and drop its content", () => {
  for (const status of [200, 201]) {
    const item = core.next({ ...sending(), payload: "secret", iv: "x" }, { type: "answer", status,
      body: { id: 42, beat_id: 7, beat_code: "E05015253" } }, T0 + 1000);
    assert.equal(item.state, "sent");
    assert.equal(item.serverUrl, "/entries/42");
    assert.equal(item.serverBeatId, 7);
    assert.equal(item.serverBeat, "E05015253");
    assert.equal(item.payload, null);
    assert.equal(item.iv, null);
  }
});

test("no signal puts it back with a growing wait", () => {
  let item = sending();
  item = core.next(item, { type: "network" }, T0, 0);
  assert.equal(item.state, "queued");
  assert.equal(item.nextTryAt, T0 + 15000);
  assert.ok(!core.isDue(item, T0 + 14999));
  assert.ok(core.isDue(item, T0 + 15000));
  item = core.next(core.next(item, { type: "send" }, T0 + 15000), { type: "network" }, T0 + 15000, 0);
  assert.equal(item.nextTryAt - (T0 + 15000), 30000);
});

test("backoff doubles and stops at fifteen minutes", () => {
  assert.deepEqual([1, 2, 3, 4].map((n) => core.backoff(n, 0)), [15000, 30000, 60000, 120000]);
  assert.equal(core.backoff(30, 0), 15 * 60 * 1000);
  assert.ok(core.backoff(2, 0.99) > core.backoff(2, 0));
});

test("422 needs attention with the server's reason and field errors, and is not retried by itself", () => {
  const item = core.next(sending(), { type: "answer", status: 422,
    body: { detail: "Some fields are not right: see errors.", errors: { summary: ["Enter a short summary"] } } }, T0);
  assert.equal(item.state, "attention");
  assert.equal(item.reason, "Some fields are not right: see errors.");
  assert.deepEqual(item.errors, { summary: ["Enter a short summary"] });
  assert.ok(!core.isDue(item, T0 + 10 * 60 * 60 * 1000));
});

test("a fixed item is queued again from scratch", () => {
  const wrong = core.next(sending(), { type: "answer", status: 422, body: { errors: { summary: ["x"] } } }, T0);
  const fixed = core.next(wrong, { type: "resave", payload: "new", summary: "Fixed" }, T0 + 5);
  assert.equal(fixed.state, "queued");
  assert.equal(fixed.errors, null);
  assert.equal(fixed.payload, "new");
  assert.equal(fixed.attempts, 0);
  assert.ok(core.isDue(fixed, T0 + 5));
});

test("202 held: needs attention, fixed on the server, content gone from the phone", () => {
  const item = core.next({ ...sending(), envelope: { ciphertext: "..." } }, { type: "answer", status: 202,
    body: { status: "held", url: "/entries/held/7", errors: { child_born_on: ["Enter the date of birth"] } } }, T0);
  assert.equal(item.state, "attention");
  assert.equal(item.held, true);
  assert.equal(item.heldUrl, "/entries/held/7");
  assert.equal(item.envelope, null);
  assert.deepEqual(core.unsent([item]), [], "held on the server: not lost if the phone is wiped");
});

test("401 waits for sign-in, then is due again", () => {
  const waiting = core.next(sending(), { type: "answer", status: 401, body: {} }, T0);
  assert.equal(waiting.state, "queued");
  assert.ok(!core.isDue(waiting, T0 + 60 * 60 * 1000));
  const back = core.next(waiting, { type: "signed-in" }, T0 + 100);
  assert.ok(core.isDue(back, T0 + 100));
});

test("busy, broken or racing servers are retried; 409 soon", () => {
  for (const status of [403, 409, 429, 500, 503]) {
    const item = core.next(sending(), { type: "answer", status, body: {} }, T0, 0);
    assert.equal(item.state, "queued", String(status));
    assert.ok(item.nextTryAt > T0);
  }
  assert.equal(core.next(sending(), { type: "answer", status: 409, body: {} }, T0).nextTryAt, T0 + 2000);
});

test("an answer or a network failure for an item not being sent changes nothing", () => {
  const item = fresh();
  assert.equal(core.next(item, { type: "answer", status: 201, body: { id: 1 } }, T0), item);
  assert.equal(core.next(item, { type: "network" }, T0), item);
  assert.equal(core.next(item, { type: "nonsense" }, T0), item);
});

test("an item left sending by a page that died is recovered only after a while", () => {
  const stuck = sending();
  assert.equal(core.next(stuck, { type: "recover" }, T0 + 1000).state, "sending");
  assert.equal(core.next(stuck, { type: "recover" }, T0 + core.STALE_SENDING_MS).state, "queued");
});

test("due items go oldest first; nextWake says when to look again", () => {
  const a = core.create({ id: "a" }, T0 + 10), b = core.create({ id: "b" }, T0);
  const later = { ...core.create({ id: "c" }, T0), nextTryAt: T0 + 5000 };
  assert.deepEqual(core.dueItems([a, later, b], T0 + 20).map((i) => i.id), ["b", "a"]);
  assert.equal(core.nextWake([later], T0), 5000);
  assert.equal(core.nextWake([], T0), null);
});

test("overdue after the warning hours; sent lines expire after a day", () => {
  const item = fresh();
  assert.ok(!core.isOverdue(item, T0 + 71 * 3600e3, 72));
  assert.ok(core.isOverdue(item, T0 + 73 * 3600e3, 72));
  const sent = core.next(sending(), { type: "answer", status: 201, body: { id: 1 } }, T0);
  assert.ok(!core.isOverdue(sent, T0 + 100 * 3600e3, 72));
  assert.ok(core.isExpiredSent(sent, T0 + 25 * 3600e3));
  assert.deepEqual(core.unsent([sent, item]).map((i) => i.id), ["k-1"]);
});
