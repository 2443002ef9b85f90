#include "unipoints/settlement/netting.hpp"

#include <algorithm>
#include <cstddef>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>
#include <tuple>
#include <unordered_map>
#include <utility>

namespace unipoints::settlement {
namespace {

__extension__ typedef __int128 Int128;

// Sums are kept in __int128: even 2^40 int64 terms cannot overflow it. Each total is narrowed here.
std::int64_t Narrow(Int128 value, const char* what) {
  if (value > std::numeric_limits<std::int64_t>::max() || value < std::numeric_limits<std::int64_t>::min()) {
    throw std::overflow_error(std::string("Net: ") + what + " does not fit int64");
  }
  return static_cast<std::int64_t>(value);
}

struct LineKey {
  std::string payer;
  std::string payee;
  std::int64_t price_micros = 0;

  bool operator==(const LineKey&) const = default;
};

struct LineKeyHash {
  std::size_t operator()(const LineKey& key) const noexcept {
    std::size_t h = std::hash<std::string>{}(key.payer);
    const auto mix = [&h](std::size_t v) { h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2); };
    mix(std::hash<std::string>{}(key.payee));
    mix(std::hash<std::int64_t>{}(key.price_micros));
    return h;
  }
};

void RequirePartnerCode(const std::string& code) {
  if (code.empty()) {
    throw std::invalid_argument("Net: empty partner code");
  }
}

// Step 1: one line per (payer, payee, price), points summed before the single rounding.
std::vector<PairAmount> PairAmounts(std::vector<PairInput>& lines, int minor_units) {
  std::unordered_map<LineKey, Int128, LineKeyHash> points_by_key;
  for (PairInput& line : lines) {
    RequirePartnerCode(line.payer);
    RequirePartnerCode(line.payee);
    if (line.price_per_point.micros < 0) {
      throw std::invalid_argument("Net: negative price per point");
    }
    if (line.payer == line.payee) {
      continue;  // internal (paths 1 and 2): settles nothing
    }
    points_by_key[LineKey{std::move(line.payer), std::move(line.payee), line.price_per_point.micros}] +=
        line.points;
  }

  std::vector<PairAmount> pairs;
  pairs.reserve(points_by_key.size());
  for (auto& [key, points_sum] : points_by_key) {
    const std::int64_t points = Narrow(points_sum, "sum of points of a pair");
    const core::Decimal6 price{key.price_micros};
    pairs.push_back(
        PairAmount{key.payer, key.payee, points, price, core::AmountMinor(points, price, minor_units)});
  }
  std::sort(pairs.begin(), pairs.end(), [](const PairAmount& x, const PairAmount& y) {
    return std::tie(x.payer, x.payee, x.price_per_point) < std::tie(y.payer, y.payee, y.price_per_point);
  });
  return pairs;
}

// Step 2: per unordered pair, what each side owes the other and the difference.
std::vector<BilateralNet> BilateralNets(const std::vector<PairAmount>& pairs) {
  struct Sums {
    Int128 a_pays_b = 0;
    Int128 b_pays_a = 0;
  };
  std::map<std::pair<std::string, std::string>, Sums> sums;
  for (const PairAmount& pair : pairs) {
    if (pair.payer < pair.payee) {
      sums[{pair.payer, pair.payee}].a_pays_b += pair.amount_minor;
    } else {
      sums[{pair.payee, pair.payer}].b_pays_a += pair.amount_minor;
    }
  }

  std::vector<BilateralNet> nets;
  nets.reserve(sums.size());
  for (const auto& [parties, sum] : sums) {
    BilateralNet net;
    net.a = parties.first;
    net.b = parties.second;
    net.a_pays_b_minor = Narrow(sum.a_pays_b, "bilateral total");
    net.b_pays_a_minor = Narrow(sum.b_pays_a, "bilateral total");
    const Int128 difference = sum.a_pays_b - sum.b_pays_a;
    net.net_minor = Narrow(difference < 0 ? -difference : difference, "bilateral net");
    if (difference > 0) {
      net.net_payer = net.a;
      net.net_payee = net.b;
    } else if (difference < 0) {
      net.net_payer = net.b;
      net.net_payee = net.a;
    }
    nets.push_back(std::move(net));
  }
  return nets;  // std::map iteration: already by (a, b)
}

// Step 3: every partner's receivable, payable and net; the nets must sum to exactly zero.
std::vector<Position> Positions(const std::vector<PairAmount>& pairs,
                                const std::vector<std::string>& partners) {
  struct Sums {
    Int128 receivable = 0;
    Int128 payable = 0;
  };
  std::map<std::string, Sums> sums;
  for (const std::string& partner : partners) {
    RequirePartnerCode(partner);
    sums.try_emplace(partner);
  }
  for (const PairAmount& pair : pairs) {
    sums[pair.payee].receivable += pair.amount_minor;
    sums[pair.payer].payable += pair.amount_minor;
  }

  std::vector<Position> positions;
  positions.reserve(sums.size());
  Int128 total = 0;
  for (const auto& [partner, sum] : sums) {
    Position position;
    position.partner = partner;
    position.receivable_minor = Narrow(sum.receivable, "receivable");
    position.payable_minor = Narrow(sum.payable, "payable");
    position.net_minor = Narrow(sum.receivable - sum.payable, "net position");
    total += position.net_minor;
    positions.push_back(std::move(position));
  }
  if (total != 0) {
    throw std::logic_error("Net: positions do not sum to zero");
  }
  return positions;  // std::map iteration: already by partner
}

// Step 4: greedy multilateral clearing. Each transfer clears at least one side completely, and the last
// one clears both, so k non-zero positions take at most k - 1 transfers.
std::vector<Instruction> Instructions(const std::vector<Position>& positions) {
  struct Party {
    Int128 remaining;  // magnitude, > 0
    std::string partner;
  };
  const auto first = [](const Party& x, const Party& y) {
    if (x.remaining != y.remaining) {
      return x.remaining > y.remaining;  // largest first
    }
    return x.partner < y.partner;  // then by partner code
  };
  std::set<Party, decltype(first)> debtors(first);
  std::set<Party, decltype(first)> creditors(first);
  for (const Position& position : positions) {
    if (position.net_minor < 0) {
      debtors.insert(Party{-static_cast<Int128>(position.net_minor), position.partner});
    } else if (position.net_minor > 0) {
      creditors.insert(Party{position.net_minor, position.partner});
    }
  }

  std::vector<Instruction> instructions;
  while (!debtors.empty() && !creditors.empty()) {
    Party debtor = *debtors.begin();
    Party creditor = *creditors.begin();
    debtors.erase(debtors.begin());
    creditors.erase(creditors.begin());
    const Int128 amount = std::min(debtor.remaining, creditor.remaining);
    instructions.push_back(Instruction{debtor.partner, creditor.partner, Narrow(amount, "instruction")});
    debtor.remaining -= amount;
    creditor.remaining -= amount;
    if (debtor.remaining > 0) {
      debtors.insert(std::move(debtor));
    }
    if (creditor.remaining > 0) {
      creditors.insert(std::move(creditor));
    }
  }
  return instructions;
}

// The instructions must settle every position exactly, with at most N-1 positive transfers.
void CheckInstructionsClear(const std::vector<Position>& positions,
                            const std::vector<Instruction>& instructions) {
  std::map<std::string, Int128> remaining;
  for (const Position& position : positions) {
    remaining[position.partner] = position.net_minor;
  }
  const std::size_t limit = positions.empty() ? 0 : positions.size() - 1;
  if (instructions.size() > limit) {
    throw std::logic_error("Net: more than N-1 payment instructions");
  }
  for (const Instruction& instruction : instructions) {
    const auto from = remaining.find(instruction.from);
    const auto to = remaining.find(instruction.to);
    if (instruction.amount_minor <= 0 || from == remaining.end() || to == remaining.end() || from == to) {
      throw std::logic_error("Net: malformed payment instruction");
    }
    from->second += instruction.amount_minor;  // a debtor's negative position rises towards zero
    to->second -= instruction.amount_minor;
  }
  for (const auto& [partner, left] : remaining) {
    if (left != 0) {
      throw std::logic_error("Net: payment instructions do not clear the position of " + partner);
    }
  }
}

}  // namespace

Netting Net(std::vector<PairInput> lines, int minor_units, const std::vector<std::string>& partners) {
  if (minor_units < 0 || minor_units > 9) {
    throw std::invalid_argument("Net: minor_units must be within 0..9");
  }
  Netting netting;
  netting.pairs = PairAmounts(lines, minor_units);
  netting.nets = BilateralNets(netting.pairs);
  netting.positions = Positions(netting.pairs, partners);
  netting.instructions = Instructions(netting.positions);
  CheckInstructionsClear(netting.positions, netting.instructions);
  return netting;
}

}  // namespace unipoints::settlement
