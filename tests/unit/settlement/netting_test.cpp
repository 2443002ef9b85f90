#include "unipoints/settlement/netting.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "unipoints/core/decimal.hpp"

namespace unipoints::settlement {
namespace {

// Every expected amount below is worked out by hand in the comment beside it (points x price x 100
// for CNY, then half away from zero once), never by calling core::AmountMinor.

constexpr int kCny = 2;  // minor units: fen

core::Decimal6 D(std::string_view text) {
  const auto value = core::Decimal6::Parse(text);
  EXPECT_TRUE(value.has_value()) << text;
  return value.value_or(core::Decimal6{});
}

PairInput Line(std::string payer, std::string payee, std::int64_t points, std::string_view price) {
  return PairInput{std::move(payer), std::move(payee), points, D(price)};
}

PairAmount Pair(std::string payer, std::string payee, std::int64_t points, std::string_view price,
                std::int64_t amount_minor) {
  return PairAmount{std::move(payer), std::move(payee), points, D(price), amount_minor};
}

TEST(NettingTest, TwoPartnerSeedCaseNetsPath3MinusPath4) {
  // Path 4: T honoured 12,345 R-points, so R (source) pays T: 12,345 x 0.01 = 123.45 CNY.
  // Path 3: R honoured 50,000 T-points, so T (source) pays R: 50,000 x 0.008 = 400.00 CNY.
  const Netting netting =
      Net({Line("T", "R", 50'000, "0.008000"), Line("R", "T", 12'345, "0.010000")}, kCny, {"R", "T"});

  ASSERT_EQ(netting.pairs.size(), 2U);
  EXPECT_EQ(netting.pairs[0], Pair("R", "T", 12'345, "0.010000", 12'345));
  EXPECT_EQ(netting.pairs[1], Pair("T", "R", 50'000, "0.008000", 40'000));

  ASSERT_EQ(netting.nets.size(), 1U);
  EXPECT_EQ(netting.nets[0], (BilateralNet{"R", "T", 12'345, 40'000, 27'655, "T", "R"}));  // 400.00 - 123.45

  ASSERT_EQ(netting.positions.size(), 2U);
  EXPECT_EQ(netting.positions[0], (Position{"R", 40'000, 12'345, 27'655}));
  EXPECT_EQ(netting.positions[1], (Position{"T", 12'345, 40'000, -27'655}));

  ASSERT_EQ(netting.instructions.size(), 1U);
  EXPECT_EQ(netting.instructions[0], (Instruction{"T", "R", 27'655}));  // T pays R 276.55 CNY
}

// Five partners with lines (A..E) at asymmetric prices, plus Z with none.
std::vector<PairInput> FivePartnerLines() {
  return {
      Line("A", "B", 500, "0.012345"),  // with the next line: 1,000 x 0.012345 = 12.345 -> 12.35
      Line("A", "B", 500, "0.012345"),
      Line("A", "B", 100, "0.020000"),    // 2.00, a second line of the same pair at another price
      Line("B", "A", 2'000, "0.010000"),  // 20.00
      Line("A", "C", 300, "0.015000"),    // 4.50
      Line("C", "D", 777, "0.008500"),    // 6.6045 -> 6.60
      Line("D", "E", 5'001, "0.012500"),  // 62.5125 -> 62.51
      Line("E", "A", 1'234, "0.009999"),  // 12.338766 -> 12.34
      Line("B", "C", 3, "0.005000"),      // 0.015 -> 0.02 (exactly half a fen, rounded up)
      Line("D", "B", 40, "0.100000"),     // 4.00
      Line("E", "C", 100, "0.012345"),    // 1.2345 -> 1.23
      Line("C", "C", 9'999, "0.010000"),  // internal: dropped
  };
}

TEST(NettingTest, PositionsSumToZeroWithFivePartnersAndAsymmetricPrices) {
  const Netting netting = Net(FivePartnerLines(), kCny, {"A", "B", "C", "D", "E", "Z"});

  const std::vector<PairAmount> pairs = {
      Pair("A", "B", 1'000, "0.012345", 1'235), Pair("A", "B", 100, "0.020000", 200),
      Pair("A", "C", 300, "0.015000", 450),     Pair("B", "A", 2'000, "0.010000", 2'000),
      Pair("B", "C", 3, "0.005000", 2),         Pair("C", "D", 777, "0.008500", 660),
      Pair("D", "B", 40, "0.100000", 400),      Pair("D", "E", 5'001, "0.012500", 6'251),
      Pair("E", "A", 1'234, "0.009999", 1'234), Pair("E", "C", 100, "0.012345", 123),
  };
  EXPECT_EQ(netting.pairs, pairs);

  const std::vector<BilateralNet> nets = {
      {"A", "B", 1'435, 2'000, 565, "B", "A"},  // A owes 12.35 + 2.00, B owes 20.00
      {"A", "C", 450, 0, 450, "A", "C"},       {"A", "E", 0, 1'234, 1'234, "E", "A"},
      {"B", "C", 2, 0, 2, "B", "C"},           {"B", "D", 0, 400, 400, "D", "B"},
      {"C", "D", 660, 0, 660, "C", "D"},       {"C", "E", 0, 123, 123, "E", "C"},
      {"D", "E", 6'251, 0, 6'251, "D", "E"},
  };
  EXPECT_EQ(netting.nets, nets);

  const std::vector<Position> positions = {
      {"A", 3'234, 1'885, 1'349},  // 20.00 + 12.34 in; 12.35 + 2.00 + 4.50 out
      {"B", 1'835, 2'002, -167},   // 12.35 + 2.00 + 4.00 in; 20.00 + 0.02 out
      {"C", 575, 660, -85},        // 4.50 + 0.02 + 1.23 in; 6.60 out
      {"D", 660, 6'651, -5'991},   // 6.60 in; 62.51 + 4.00 out
      {"E", 6'251, 1'357, 4'894},  // 62.51 in; 12.34 + 1.23 out
      {"Z", 0, 0, 0},              // no lines at all
  };
  EXPECT_EQ(netting.positions, positions);
  std::int64_t sum = 0;
  for (const Position& position : netting.positions) {
    sum += position.net_minor;
  }
  EXPECT_EQ(sum, 0);

  // Largest debtor D (59.91) pays largest creditor E (48.94); D's remaining 10.97 goes to A (13.49);
  // B (1.67) pays A, leaving A 0.85, which C (0.85) pays. Z neither pays nor receives.
  const std::vector<Instruction> instructions = {
      {"D", "E", 4'894},
      {"D", "A", 1'097},
      {"B", "A", 167},
      {"C", "A", 85},
  };
  EXPECT_EQ(netting.instructions, instructions);
}

TEST(NettingTest, InstructionsAtMostNMinusOne) {
  // Everyone owes the hub H the same amount: N = 5 partners, 4 transfers, ties broken by partner code.
  const Netting star = Net({Line("A", "H", 100, "0.010000"), Line("B", "H", 100, "0.010000"),
                            Line("C", "H", 100, "0.010000"), Line("D", "H", 100, "0.010000")},
                           kCny, {});
  const std::vector<Instruction> star_instructions = {
      {"A", "H", 100}, {"B", "H", 100}, {"C", "H", 100}, {"D", "H", 100}};
  EXPECT_EQ(star.instructions, star_instructions);

  // A cycle A -> B -> C -> A of equal amounts nets to nothing: zero transfers.
  const Netting cycle =
      Net({Line("A", "B", 700, "0.010000"), Line("B", "C", 700, "0.010000"), Line("C", "A", 700, "0.010000")},
          kCny, {});
  EXPECT_EQ(cycle.positions.size(), 3U);
  EXPECT_TRUE(cycle.instructions.empty());

  // One debtor, two creditors of equal size: the creditor with the smaller code is paid first.
  const Netting split =
      Net({Line("M", "Y", 50, "0.010000"), Line("M", "X", 50, "0.010000")}, kCny, {"M", "X", "Y"});
  const std::vector<Instruction> split_instructions = {{"M", "X", 50}, {"M", "Y", 50}};
  EXPECT_EQ(split.instructions, split_instructions);
}

TEST(NettingTest, CancellationLinesReduceThePair) {
  const Netting netting = Net(
      {
          Line("A", "B", 1'000, "0.010000"),  // 10.00
          Line("A", "B", -250, "0.010000"),   // cancelled in the period: pair becomes 750 points, 7.50
          Line("B", "A", -300, "0.010000"),   // only a cancellation: -3.00
          Line("A", "C", 40, "0.050000"),     // 2.00 ...
          Line("A", "C", -40, "0.050000"),    // ... fully cancelled: a zero line
      },
      kCny, {"A", "B", "C"});

  const std::vector<PairAmount> pairs = {
      Pair("A", "B", 750, "0.010000", 750),
      Pair("A", "C", 0, "0.050000", 0),
      Pair("B", "A", -300, "0.010000", -300),
  };
  EXPECT_EQ(netting.pairs, pairs);

  const std::vector<BilateralNet> nets = {
      {"A", "B", 750, -300, 1'050, "A", "B"},  // 7.50 - (-3.00)
      {"A", "C", 0, 0, 0, "", ""},
  };
  EXPECT_EQ(netting.nets, nets);

  const std::vector<Position> positions = {
      {"A", -300, 750, -1'050},
      {"B", 750, -300, 1'050},
      {"C", 0, 0, 0},
  };
  EXPECT_EQ(netting.positions, positions);
  const std::vector<Instruction> instructions = {{"A", "B", 1'050}};
  EXPECT_EQ(netting.instructions, instructions);
}

TEST(NettingTest, InternalLinesSettleNothing) {
  const Netting only_internal =
      Net({Line("T", "T", 80'000, "0.010000"), Line("R", "R", 5'000, "0.008000")}, kCny, {"R", "T"});
  EXPECT_TRUE(only_internal.pairs.empty());
  EXPECT_TRUE(only_internal.nets.empty());
  const std::vector<Position> zero = {{"R", 0, 0, 0}, {"T", 0, 0, 0}};
  EXPECT_EQ(only_internal.positions, zero);
  EXPECT_TRUE(only_internal.instructions.empty());

  // Mixed with a cross line, the internal ones change nothing.
  const Netting mixed = Net({Line("T", "T", 80'000, "0.010000"), Line("T", "R", 100, "0.010000")}, kCny, {});
  const std::vector<PairAmount> pairs = {Pair("T", "R", 100, "0.010000", 100)};
  EXPECT_EQ(mixed.pairs, pairs);
  const std::vector<Position> positions = {{"R", 100, 0, 100}, {"T", 0, 100, -100}};
  EXPECT_EQ(mixed.positions, positions);

  // A partner that appears only in internal lines is not a position unless listed.
  const Netting unlisted = Net({Line("Q", "Q", 10, "1.000000")}, kCny, {});
  EXPECT_TRUE(unlisted.positions.empty());
  EXPECT_TRUE(unlisted.instructions.empty());
}

TEST(NettingTest, RoundingHalfUpOncePerLine) {
  const Netting netting = Net(
      {
          Line("A", "B", 500, "0.012345"),  // 6.1725 alone would round to 6.17 ...
          Line("A", "B", 500, "0.012345"),  // ... but summed first: 1,000 x 0.012345 = 12.345 -> 12.35
          Line("A", "C", 1, "0.005000"),    // 0.005 = exactly half a fen -> 0.01
          Line("B", "C", 1, "0.004999"),    // 0.004999 -> 0.00
          Line("C", "A", -1, "0.005000"),   // -0.005 -> -0.01 (half away from zero)
          Line("C", "B", 7, "0.000714"),    // 0.004998 -> 0.00
      },
      kCny, {});
  const std::vector<PairAmount> pairs = {
      Pair("A", "B", 1'000, "0.012345", 1'235), Pair("A", "C", 1, "0.005000", 1),
      Pair("B", "C", 1, "0.004999", 0),         Pair("C", "A", -1, "0.005000", -1),
      Pair("C", "B", 7, "0.000714", 0),
  };
  EXPECT_EQ(netting.pairs, pairs);

  // A currency without minor units: 3 x 0.5 = 1.5 -> 2; 1 x 0.49 -> 0.
  const Netting yen = Net({Line("A", "B", 3, "0.500000"), Line("B", "A", 1, "0.490000")}, 0, {});
  const std::vector<PairAmount> yen_pairs = {Pair("A", "B", 3, "0.500000", 2),
                                             Pair("B", "A", 1, "0.490000", 0)};
  EXPECT_EQ(yen.pairs, yen_pairs);

  // Three minor units: 1 x 0.0005 = half a thousandth -> 1; 1 x 0.0004 -> 0.
  const Netting dinar = Net({Line("A", "B", 1, "0.000500"), Line("B", "A", 1, "0.000400")}, 3, {});
  const std::vector<PairAmount> dinar_pairs = {Pair("A", "B", 1, "0.000500", 1),
                                               Pair("B", "A", 1, "0.000400", 0)};
  EXPECT_EQ(dinar.pairs, dinar_pairs);
}

TEST(NettingTest, DeterministicOutput) {
  const std::vector<std::string> partners = {"Z", "E", "A", "D", "B", "C", "A"};
  const Netting reference = Net(FivePartnerLines(), kCny, partners);

  std::mt19937 rng(20261031);
  for (int round = 0; round < 20; ++round) {
    std::vector<PairInput> lines = FivePartnerLines();
    std::shuffle(lines.begin(), lines.end(), rng);
    std::vector<std::string> shuffled_partners = partners;
    std::shuffle(shuffled_partners.begin(), shuffled_partners.end(), rng);
    EXPECT_EQ(Net(lines, kCny, shuffled_partners), reference) << "round " << round;
  }
  // Sorted by partner code, the byte-wise way (upper case before lower case).
  const Netting mixed_case = Net({Line("b", "B", 1, "0.010000"), Line("B", "a", 1, "0.010000")}, kCny, {});
  ASSERT_EQ(mixed_case.positions.size(), 3U);
  EXPECT_EQ(mixed_case.positions[0].partner, "B");
  EXPECT_EQ(mixed_case.positions[1].partner, "a");
  EXPECT_EQ(mixed_case.positions[2].partner, "b");
}

TEST(NettingTest, EmptyPeriodHasZeroPositionsAndNoInstructions) {
  const Netting netting = Net({}, kCny, {"A", "B"});
  EXPECT_TRUE(netting.pairs.empty());
  EXPECT_TRUE(netting.nets.empty());
  const std::vector<Position> positions = {{"A", 0, 0, 0}, {"B", 0, 0, 0}};
  EXPECT_EQ(netting.positions, positions);
  EXPECT_TRUE(netting.instructions.empty());
  EXPECT_EQ(Net({}, kCny, {}), Netting{});
}

TEST(NettingTest, RejectsBadInput) {
  EXPECT_THROW(Net({Line("", "B", 1, "0.010000")}, kCny, {}), std::invalid_argument);
  EXPECT_THROW(Net({Line("A", "", 1, "0.010000")}, kCny, {}), std::invalid_argument);
  EXPECT_THROW(Net({}, kCny, {"A", ""}), std::invalid_argument);
  EXPECT_THROW(Net({Line("A", "B", 1, "-0.010000")}, kCny, {}), std::invalid_argument);
  EXPECT_THROW(Net({}, -1, {}), std::invalid_argument);
  EXPECT_THROW(Net({}, 10, {}), std::invalid_argument);
}

TEST(NettingTest, OverflowBeyondInt64Throws) {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t kBig = 9'000'000'000'000'000'000;  // fits int64; twice it does not

  // Points of one pair summed beyond int64.
  EXPECT_THROW(Net({Line("A", "B", kMax, "0.000001"), Line("A", "B", 1, "0.000001")}, 0, {}),
               std::overflow_error);
  // One line's amount beyond int64.
  EXPECT_THROW(Net({Line("A", "B", kBig, "2.000000")}, 0, {}), std::overflow_error);
  // Two pairs into the same payee: the receivable does not fit.
  EXPECT_THROW(Net({Line("A", "C", kBig, "1.000000"), Line("B", "C", kBig, "1.000000")}, 0, {}),
               std::overflow_error);
  // A pays B 9e18 and B "pays" A -9e18: the bilateral net is 1.8e19.
  EXPECT_THROW(Net({Line("A", "B", kBig, "1.000000"), Line("B", "A", -kBig, "1.000000")}, 0, {}),
               std::overflow_error);
  // Large but in range: fine.
  const Netting large = Net({Line("A", "B", kBig, "1.000000"), Line("B", "A", kBig, "1.000000")}, 0, {});
  EXPECT_EQ(large.nets[0].net_minor, 0);
  EXPECT_TRUE(large.instructions.empty());
}

// points x micros / 10^6 x 10^2 = points x micros / 10^4, rounded half away from zero (small inputs only).
std::int64_t ReferenceAmountCny(std::int64_t points, std::int64_t micros) {
  const std::int64_t product = points * micros;
  const std::int64_t magnitude = product < 0 ? -product : product;
  const std::int64_t rounded = (magnitude + 5'000) / 10'000;
  return product < 0 ? -rounded : rounded;
}

// 200 random periods (fixed seed) of up to 12 partners: the invariants hold for all of them.
TEST(NettingTest, RandomPeriodsKeepTheInvariants) {
  std::mt19937_64 rng(0x5E771E);
  const std::vector<std::string> prices = {"0.010000", "0.008000", "0.012345", "0.005000",
                                           "0.000714", "0.100000", "1.234567", "0.009999"};
  for (int round = 0; round < 200; ++round) {
    const int partner_count = std::uniform_int_distribution<int>(1, 12)(rng);
    std::vector<std::string> codes;
    codes.reserve(partner_count);
    for (int i = 0; i < partner_count; ++i) {
      codes.push_back("P" + std::to_string(i));
    }
    std::uniform_int_distribution<int> pick(0, partner_count - 1);
    std::uniform_int_distribution<std::int64_t> points(-20'000, 200'000);
    std::uniform_int_distribution<std::size_t> price(0, prices.size() - 1);
    std::vector<PairInput> lines;
    const int line_count = std::uniform_int_distribution<int>(0, 80)(rng);
    lines.reserve(line_count);
    for (int i = 0; i < line_count; ++i) {
      lines.push_back(Line(codes[pick(rng)], codes[pick(rng)], points(rng), prices[price(rng)]));
    }
    // Sometimes list only some partners: the others must still get positions from their lines.
    std::vector<std::string> listed = codes;
    listed.resize(std::uniform_int_distribution<std::size_t>(0, codes.size())(rng));

    const Netting netting = Net(lines, kCny, listed);
    SCOPED_TRACE("round " + std::to_string(round));

    // Pairs: no internal ones, strictly sorted, points summed per (payer, payee, price), amounts rounded
    // once by an independent half-away-from-zero reference.
    std::map<std::tuple<std::string, std::string, std::int64_t>, std::int64_t> points_by_key;
    for (const PairInput& line : lines) {
      if (line.payer != line.payee) {
        points_by_key[{line.payer, line.payee, line.price_per_point.micros}] += line.points;
      }
    }
    ASSERT_EQ(netting.pairs.size(), points_by_key.size());
    for (std::size_t i = 0; i < netting.pairs.size(); ++i) {
      EXPECT_NE(netting.pairs[i].payer, netting.pairs[i].payee);
      const std::int64_t pair_points = points_by_key[{netting.pairs[i].payer, netting.pairs[i].payee,
                                                      netting.pairs[i].price_per_point.micros}];
      EXPECT_EQ(netting.pairs[i].points, pair_points);
      EXPECT_EQ(netting.pairs[i].amount_minor,
                ReferenceAmountCny(pair_points, netting.pairs[i].price_per_point.micros));
      if (i > 0) {
        const PairAmount& x = netting.pairs[i - 1];
        const PairAmount& y = netting.pairs[i];
        EXPECT_LT(std::tie(x.payer, x.payee, x.price_per_point),
                  std::tie(y.payer, y.payee, y.price_per_point));
      }
    }

    // Positions: sorted, unique, receivable - payable, summing to zero, and equal to the pair totals.
    std::map<std::string, std::int64_t> receivable;
    std::map<std::string, std::int64_t> payable;
    for (const PairAmount& pair : netting.pairs) {
      receivable[pair.payee] += pair.amount_minor;
      payable[pair.payer] += pair.amount_minor;
    }
    std::int64_t sum = 0;
    std::map<std::string, std::int64_t> remaining;
    for (std::size_t i = 0; i < netting.positions.size(); ++i) {
      const Position& position = netting.positions[i];
      if (i > 0) {
        EXPECT_LT(netting.positions[i - 1].partner, position.partner);
      }
      EXPECT_EQ(position.net_minor, position.receivable_minor - position.payable_minor);
      EXPECT_EQ(position.receivable_minor, receivable[position.partner]);
      EXPECT_EQ(position.payable_minor, payable[position.partner]);
      sum += position.net_minor;
      remaining[position.partner] = position.net_minor;
    }
    EXPECT_EQ(sum, 0);
    for (const std::string& code : listed) {
      EXPECT_TRUE(remaining.contains(code)) << code;
    }
    for (const PairAmount& pair : netting.pairs) {
      EXPECT_TRUE(remaining.contains(pair.payer) && remaining.contains(pair.payee));
    }

    // Nets: a < b, consistent with the pair totals and with each other.
    std::map<std::pair<std::string, std::string>, std::int64_t> owed;
    for (const PairAmount& pair : netting.pairs) {
      owed[{pair.payer, pair.payee}] += pair.amount_minor;
    }
    for (const BilateralNet& net : netting.nets) {
      EXPECT_LT(net.a, net.b);
      EXPECT_EQ(net.a_pays_b_minor, (owed[{net.a, net.b}]));
      EXPECT_EQ(net.b_pays_a_minor, (owed[{net.b, net.a}]));
      const std::int64_t difference = net.a_pays_b_minor - net.b_pays_a_minor;
      EXPECT_EQ(net.net_minor, difference < 0 ? -difference : difference);
      if (difference > 0) {
        EXPECT_EQ(net.net_payer, net.a);
        EXPECT_EQ(net.net_payee, net.b);
      } else if (difference < 0) {
        EXPECT_EQ(net.net_payer, net.b);
        EXPECT_EQ(net.net_payee, net.a);
      } else {
        EXPECT_TRUE(net.net_payer.empty() && net.net_payee.empty());
      }
    }

    // Instructions: at most N-1, positive, debtor to creditor, clearing every position exactly.
    const std::size_t n = netting.positions.size();
    EXPECT_LE(netting.instructions.size(), n == 0 ? 0 : n - 1);
    std::map<std::string, std::int64_t> initial = remaining;
    for (const Instruction& instruction : netting.instructions) {
      EXPECT_GT(instruction.amount_minor, 0);
      EXPECT_LT(initial[instruction.from], 0) << instruction.from;
      EXPECT_GT(initial[instruction.to], 0) << instruction.to;
      remaining[instruction.from] += instruction.amount_minor;
      remaining[instruction.to] -= instruction.amount_minor;
    }
    for (const auto& [partner, left] : remaining) {
      EXPECT_EQ(left, 0) << partner;
    }

    // And the same input gives the same output.
    EXPECT_EQ(Net(lines, kCny, listed), netting);
  }
}

}  // namespace
}  // namespace unipoints::settlement
