#pragma once
// The netting core of a settlement run (DOMAIN.md sections 2, 4 and 5): from the period's settlement
// lines (source S pays fulfiller F for the points F honoured) to gross amounts per ordered pair,
// bilateral nets per unordered pair, each partner's net position and the payment instructions that
// clear all positions. Pure: no I/O, no SQL, no JSON. Money is integer minor units; every amount is
// rounded once per pair line (core::AmountMinor) and everything after that is exact integer sums.

#include <cstdint>
#include <string>
#include <vector>

#include "unipoints/core/decimal.hpp"

namespace unipoints::settlement {

// One settlement line: `payer` (the points' source partner S) owes `payee` (the fulfilling partner F)
// for `points` at `price_per_point` (currency major units). Points may be negative (cancellations).
struct PairInput {
  std::string payer;
  std::string payee;
  std::int64_t points = 0;
  core::Decimal6 price_per_point;

  bool operator==(const PairInput&) const = default;
};

// Gross amount of one ordered pair at one price: the points of all its input lines summed first,
// then rounded once. May be negative (more cancelled than honoured in the period) or zero (all of it
// cancelled; kept so the statement still shows the line).
struct PairAmount {
  std::string payer;
  std::string payee;
  std::int64_t points = 0;
  core::Decimal6 price_per_point;
  std::int64_t amount_minor = 0;

  bool operator==(const PairAmount&) const = default;
};

// Bilateral net of an unordered pair, a < b (byte-wise): the single amount the partner who owes more
// pays the other. net_minor = |a_pays_b_minor - b_pays_a_minor|; net_payer and net_payee are empty
// when it is zero.
struct BilateralNet {
  std::string a;
  std::string b;
  std::int64_t a_pays_b_minor = 0;
  std::int64_t b_pays_a_minor = 0;
  std::int64_t net_minor = 0;
  std::string net_payer;
  std::string net_payee;

  bool operator==(const BilateralNet&) const = default;
};

// A partner's multilateral position: receivable = sum of amounts where it is the payee, payable = sum
// where it is the payer (negative amounts reduce them), net = receivable - payable.
struct Position {
  std::string partner;
  std::int64_t receivable_minor = 0;
  std::int64_t payable_minor = 0;
  std::int64_t net_minor = 0;

  bool operator==(const Position&) const = default;
};

// One payment: `from` (a partner with a negative position) pays `to` (one with a positive position).
struct Instruction {
  std::string from;
  std::string to;
  std::int64_t amount_minor = 0;

  bool operator==(const Instruction&) const = default;
};

struct Netting {
  std::vector<PairAmount> pairs;          // by payer, payee, price
  std::vector<BilateralNet> nets;         // by a, b
  std::vector<Position> positions;        // by partner
  std::vector<Instruction> instructions;  // in generation order

  bool operator==(const Netting&) const = default;
};

// Nets one period.
// - Lines with payer == payee are internal (paths 1 and 2) and dropped: they settle nothing.
// - Lines of the same (payer, payee, price) are summed, then rounded once with
//   core::AmountMinor(points, price, minor_units); the same pair at different prices stays as separate
//   lines, ordered by price.
// - A bilateral net for every unordered pair with any line.
// - A position for every partner in `partners` (duplicates allowed; a partner without lines gets a
//   zero position) and for every partner appearing in a non-internal line.
// - Instructions: repeatedly the largest debtor pays the largest creditor (ties broken by partner
//   code, smallest first) min(debt, credit); at most (positions - 1) transfers, none of zero amount.
// Throws std::invalid_argument for an empty partner code, a negative price or minor_units outside
// 0..9; std::overflow_error when a sum of points, an amount, a total or a net does not fit int64;
// std::logic_error if the positions do not sum to zero or the instructions do not clear them exactly
// (internal invariants, checked on every run).
Netting Net(std::vector<PairInput> lines, int minor_units, const std::vector<std::string>& partners);

}  // namespace unipoints::settlement
