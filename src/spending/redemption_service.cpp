#include "unipoints/spending/redemption_service.hpp"

#include <algorithm>
#include <set>

#include "spending_store.hpp"
#include "unipoints/core/error.hpp"
#include "unipoints/lots/lots_service.hpp"
#include "unipoints/members/members_service.hpp"
#include "unipoints/tenancy/tenancy_service.hpp"

namespace unipoints::spending {
namespace {

using core::DomainError;
using core::ErrorCode;
using nlohmann::json;
using tenancy::Role;

constexpr std::int64_t kMaxPricePoints = 1'000'000'000;
constexpr std::int64_t kMaxStock = 1'000'000'000;
constexpr std::int64_t kMaxQuantity = 1000;
constexpr std::size_t kMaxOptions = 20;

std::optional<std::string> OptNum(std::optional<std::int64_t> v) {
  return v ? std::optional(std::to_string(*v)) : std::nullopt;
}
std::optional<std::string> OptTime(std::optional<core::Instant> t) {
  return t ? std::optional(core::FormatRfc3339(*t)) : std::nullopt;
}
json TimeOrNull(const pqxx::field& f) {
  return f.is_null() ? json(nullptr) : json(core::FormatRfc3339(core::FromUnixMicros(f.as<std::int64_t>())));
}

std::string ArrayLiteral(const std::vector<std::int64_t>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + std::to_string(values[i]);
  return out + "}";
}

json PriceToJson(const Price& p) {
  if (p.points) return {{"points", *p.points}};
  json options = json::array();
  for (const auto& o : p.options) options.push_back(o);
  return {{"options", options}};
}

Price PriceFromJson(const json& j) {
  Price p;
  if (j.contains("points")) p.points = j["points"].get<std::int64_t>();
  if (j.contains("options")) {
    for (const auto& o : j["options"]) p.options.push_back(o.get<std::map<std::string, std::int64_t>>());
  }
  return p;
}

struct RewardRow {
  std::int64_t id = 0;
  std::string code, partner, name;
  Price price;
  std::optional<std::int64_t> stock;
  std::optional<core::Instant> from, to;
  std::string status;
  std::int64_t partner_id = 0;
  json as_json;
};

// The reward columns of `r` from column `at` on.
RewardRow ReadReward(const pqxx::row& r, int at = 0) {
  RewardRow row;
  row.id = r[at + 0].as<std::int64_t>();
  row.code = r[at + 1].as<std::string>();
  row.partner = r[at + 2].as<std::string>();
  row.name = r[at + 3].as<std::string>();
  row.price = PriceFromJson(json::parse(r[at + 4].as<std::string>()));
  if (!r[at + 5].is_null()) row.stock = r[at + 5].as<std::int64_t>();
  if (!r[at + 6].is_null()) row.from = core::FromUnixMicros(r[at + 6].as<std::int64_t>());
  if (!r[at + 7].is_null()) row.to = core::FromUnixMicros(r[at + 7].as<std::int64_t>());
  row.status = r[at + 8].as<std::string>();
  row.partner_id = r[at + 10].as<std::int64_t>();
  row.as_json = {{"code", row.code},
                 {"partner", row.partner},
                 {"name", row.name},
                 {"price", PriceToJson(row.price)},
                 {"stock", row.stock ? json(*row.stock) : json(nullptr)},
                 {"from", TimeOrNull(r[at + 6])},
                 {"to", TimeOrNull(r[at + 7])},
                 {"status", row.status},
                 {"created_at", TimeOrNull(r[at + 9])}};
  return row;
}

std::map<std::string, std::int64_t> PartnerIds(db::Tx& tx, std::int64_t tenant_id) {
  std::map<std::string, std::int64_t> ids;
  for (const auto& r : tx.Exec(store::kPartnerCodes, tenant_id))
    ids[r[0].as<std::string>()] = r[1].as<std::int64_t>();
  return ids;
}

// A partner key manages the rewards it fulfils; the admin manages all.
void RequireManager(const tenancy::Principal& who, const std::string& partner_code) {
  if (who.role == Role::kPartner && who.partner_code != partner_code) {
    throw DomainError(ErrorCode::kForbidden, "A partner key manages its own rewards only");
  }
}

// Points that can be spent from each source now, and in all.
struct Spendable {
  std::map<std::int64_t, std::int64_t> by_source;
  std::int64_t total = 0;
};

// `lots` earliest expiry first. An open debt holds back as many points (the latest-expiring ones), as
// the balance's `available` (held - debt) and transfers count it; what is spent still goes earliest
// expiry first, so it never reaches the points held back.
Spendable Tally(const std::vector<lots::LiveLot>& lots, std::int64_t debt) {
  Spendable s;
  std::int64_t held_back = std::max<std::int64_t>(debt, 0);
  for (auto it = lots.rbegin(); it != lots.rend(); ++it) {
    const auto back = std::min(it->remaining, held_back);
    held_back -= back;
    s.by_source[it->source_partner_id] += it->remaining - back;
    s.total += it->remaining - back;
  }
  return s;
}

// Points per source partner id an option needs for `quantity`; nullopt key (-1) = any source.
std::map<std::int64_t, std::int64_t> Needs(const Price& price, std::optional<std::size_t> option,
                                           std::int64_t quantity,
                                           const std::map<std::string, std::int64_t>& ids) {
  std::map<std::int64_t, std::int64_t> needs;
  if (price.points) {
    needs[-1] = *price.points * quantity;
    return needs;
  }
  for (const auto& [code, pts] : price.options.at(*option)) needs[ids.at(code)] = pts * quantity;
  return needs;
}

// Shortfall per source for `needs` given what can be spent; empty when payable.
std::map<std::int64_t, std::int64_t> Shortfall(const std::map<std::int64_t, std::int64_t>& needs,
                                               const Spendable& s) {
  std::map<std::int64_t, std::int64_t> out;
  for (const auto& [src, need] : needs) {
    const auto have = src == -1 ? s.total : (s.by_source.contains(src) ? s.by_source.at(src) : 0);
    if (have < need) out[src] = need - have;
  }
  return out;
}

json CodesOf(const std::map<std::int64_t, std::int64_t>& by_id,
             const std::map<std::string, std::int64_t>& ids) {
  json out = json::object();
  for (const auto& [id, pts] : by_id) {
    std::string code = "any";
    for (const auto& [c, i] : ids) {
      if (i == id) code = c;
    }
    out[code] = pts;
  }
  return out;
}

// Books a cancellation's negative settlement line per source partner (`per_source`: points given
// back), at `at` and priced as the redemption (made at `redeemed_at`) was.
void BookCancellationLines(db::Tx& tx, std::int64_t tenant_id, std::int64_t redemption_id,
                           std::int64_t fulfiller, const std::map<std::int64_t, std::int64_t>& per_source,
                           core::Instant at, core::Instant redeemed_at) {
  std::vector<std::int64_t> sources, points;
  for (const auto& [src, pts] : per_source) {
    sources.push_back(src);
    points.push_back(-pts);
  }
  if (sources.empty()) return;
  tx.Exec(store::kInsertCancellationLines, tenant_id, redemption_id, fulfiller, core::FormatRfc3339(at),
          core::FormatRfc3339(redeemed_at), ArrayLiteral(sources), ArrayLiteral(points));
}

}  // namespace

NewReward ParseReward(const json& body, http::Fields& f) {
  NewReward r;
  r.code = f.Str("code", 32);
  if (!r.code.empty()) {
    for (char c : r.code) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
        f.Error("code", "must be letters, digits, '-' or '_'");
        break;
      }
    }
  }
  r.partner = f.OptStr("partner", 32).value_or("");
  r.name = f.Str("name", 200);
  const auto* price = f.Raw("price");
  if (price == nullptr) {
    f.Error("price", "is required: {\"points\": N} or {\"options\": [{\"T\": 500}, ...]}");
  } else {
    http::Fields pf(*price, f.Path("price"));
    if (pf.Has("points") == pf.Has("options")) {
      pf.Error("points", "give exactly one of points or options");
    } else if (pf.Has("points")) {
      r.price.points = pf.Int("points", 1, kMaxPricePoints);
    } else {
      const auto& options = *pf.Raw("options");
      if (!options.is_array() || options.empty() || options.size() > kMaxOptions) {
        pf.Error("options", "must be an array of 1 to 20 options");
      } else {
        for (std::size_t i = 0; i < options.size(); ++i) {
          const auto path = pf.Path("options") + "[" + std::to_string(i) + "]";
          if (!options[i].is_object() || options[i].empty()) {
            pf.Absorb({{path, "must be an object of partner code to points, e.g. {\"T\": 500}"}});
            continue;
          }
          std::map<std::string, std::int64_t> option;
          http::Fields of(options[i], path);
          for (const auto& [code, _] : options[i].items()) option[code] = of.Int(code, 1, kMaxPricePoints);
          pf.Absorb(of.TakeErrors());
          r.price.options.push_back(std::move(option));
        }
      }
    }
    f.Absorb(pf.TakeErrors());
  }
  r.stock = f.OptInt("stock", 0, kMaxStock);
  r.from = f.OptTime("from");
  r.to = f.OptTime("to");
  if (r.from && r.to && *r.from >= *r.to) f.Error("to", "must be after from");
  (void)body;
  return r;
}

json CreateReward(db::Tx& tx, const tenancy::Principal& who, const NewReward& in) {
  NewReward r = in;
  if (r.partner.empty()) {
    if (who.role != Role::kPartner) core::ThrowField("partner", "is required");
    r.partner = who.partner_code;
  }
  RequireManager(who, r.partner);
  const auto ids = PartnerIds(tx, who.tenant_id);
  if (!ids.contains(r.partner)) {
    throw DomainError(ErrorCode::kUnknownPartner, "No partner '" + r.partner + "'",
                      {{"partner", "unknown partner"}});
  }
  for (std::size_t i = 0; i < r.price.options.size(); ++i) {
    for (const auto& [code, _] : r.price.options[i]) {
      if (!ids.contains(code)) {
        throw DomainError(ErrorCode::kUnknownPartner,
                          "No partner '" + code + "' for price option " + std::to_string(i),
                          {{"price.options[" + std::to_string(i) + "]." + code, "unknown partner"}});
      }
    }
  }
  auto row = tx.Exec(store::kInsertReward, who.tenant_id, r.code, ids.at(r.partner), r.name,
                     PriceToJson(r.price).dump(), db::Nullable(OptNum(r.stock)),
                     db::Nullable(OptTime(r.from)), db::Nullable(OptTime(r.to)));
  if (row.empty()) {
    throw DomainError(ErrorCode::kAlreadyExists, "A reward with code '" + r.code + "' exists",
                      {{"code", "already taken"}});
  }
  return GetReward(tx, who, r.code);
}

json GetReward(db::Tx& tx, const tenancy::Principal& who, const std::string& code) {
  auto row = tx.ExecOne(store::kGetReward, who.tenant_id, code);
  if (!row) throw DomainError(ErrorCode::kNotFound, "No reward '" + code + "'");
  return ReadReward(*row).as_json;
}

json ListRewards(db::Tx& tx, const tenancy::Principal& who, std::optional<std::int64_t> after, int limit,
                 const std::optional<std::string>& partner) {
  std::optional<std::int64_t> partner_id;
  if (partner) partner_id = tenancy::GetPartner(tx, who.tenant_id, *partner, "partner").id;
  auto rows = tx.Exec(store::kListRewards, who.tenant_id, db::Nullable(OptNum(after)),
                      db::Nullable(OptNum(partner_id)), limit + 1);
  json items = json::array();
  json next = nullptr;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (static_cast<int>(i) == limit) {
      next = std::to_string(rows[i - 1][0].as<std::int64_t>());
      break;
    }
    items.push_back(ReadReward(rows[i]).as_json);
  }
  return {{"items", items}, {"next", next}};
}

json UpdateReward(db::Tx& tx, const tenancy::Principal& who, const std::string& code, const json& body) {
  auto row = tx.ExecOne(store::kLockReward, who.tenant_id, code);
  if (!row) throw DomainError(ErrorCode::kNotFound, "No reward '" + code + "'");
  auto reward = ReadReward(*row);
  RequireManager(who, reward.partner);
  http::Fields f(body);
  auto name = f.OptStr("name", 200).value_or(reward.name);
  auto stock = reward.stock;
  if (f.Has("stock")) stock = f.OptInt("stock", 0, kMaxStock);
  if (body.contains("stock") && body["stock"].is_null()) stock = std::nullopt;  // unlimited
  auto from = body.contains("from") ? f.OptTime("from") : reward.from;
  auto to = body.contains("to") ? f.OptTime("to") : reward.to;
  auto status = f.OptEnum("status", {"active", "withdrawn"}).value_or(reward.status);
  if (from && to && *from >= *to) f.Error("to", "must be after from");
  if (body.contains("price")) f.Error("price", "cannot change; create a new reward");
  f.Done();
  tx.Exec(store::kUpdateReward, who.tenant_id, reward.id, name, db::Nullable(OptNum(stock)),
          db::Nullable(OptTime(from)), db::Nullable(OptTime(to)), status);
  return GetReward(tx, who, code);
}

RedemptionRequest ParseRedemption(const json& body, http::Fields& f) {
  RedemptionRequest r;
  r.request_id = f.Id("request_id");
  r.card_no = f.OptStr("card_no", 32);
  r.member_id = f.OptInt("member_id", 1, INT64_MAX);
  if (f.Has("card_no") == f.Has("member_id")) f.Error("card_no", "give exactly one of card_no or member_id");
  r.reward = f.Str("reward", 32);
  r.quantity = f.OptInt("quantity", 1, kMaxQuantity).value_or(1);
  r.option = f.OptInt("option", 0, static_cast<std::int64_t>(kMaxOptions) - 1);
  (void)body;
  return r;
}

std::pair<db::StoredAnswer, bool> Redeem(db::Tx& tx, const db::IdempotencyKey& key,
                                         const tenancy::Principal& who, const RedemptionRequest& r,
                                         core::Instant now, bool* wrote) {
  const auto tenant = who.tenant_id;
  const auto at = core::FormatRfc3339(now);
  // 1. The stored answer, the member locked (the lock every point movement of the member takes
  // first), the partners and the reward. The reward is read, not locked: redemptions of one
  // reward by different members run side by side; a limited stock is taken in the write.
  const auto head = tx.Exec(store::kRedeemRead, tenant, key.scope, key.client_id, db::Nullable(r.card_no),
                            db::Nullable(OptNum(r.member_id)), r.reward)[0];
  if (!head[0].is_null()) return {db::Replay(key, json::parse(head[0].as<std::string>())), true};
  if (head[1].is_null()) {
    if (r.card_no)
      throw DomainError(ErrorCode::kUnknownCard, "No card " + *r.card_no, {{"card_no", "unknown card"}});
    throw DomainError(ErrorCode::kUnknownMember, "No member " + std::to_string(*r.member_id),
                      {{"member_id", "unknown member"}});
  }
  members::MemberRef member{head[1].as<std::int64_t>(),
                            head[2].as<std::string>(),
                            head[3].as<std::string>(),
                            r.card_no,
                            std::nullopt,
                            std::nullopt};
  if (!head[4].is_null()) member.card_status = head[4].as<std::string>();
  if (!head[5].is_null()) member.tier_since = core::FromUnixMicros(head[5].as<std::int64_t>());
  members::MemberService::RequireUsable(member);
  std::map<std::string, std::int64_t> ids;
  const auto partners = json::parse(head[6].as<std::string>());
  for (const auto& [code, id] : partners.items()) ids[code] = id.get<std::int64_t>();
  if (head[7].is_null()) {
    throw DomainError(ErrorCode::kUnknownReward, "No reward '" + r.reward + "'",
                      {{"reward", "unknown reward"}});
  }
  const auto reward = ReadReward(head, 7);
  if (reward.status != "active") {
    throw DomainError(ErrorCode::kRewardUnavailable, "Reward '" + reward.code + "' is " + reward.status,
                      {{"reward", "not on offer"}});
  }
  if ((reward.from && now < *reward.from) || (reward.to && now >= *reward.to)) {
    throw DomainError(ErrorCode::kOutsideSaleWindow, "Reward '" + reward.code + "' is not on sale now",
                      {{"reward", "outside its sale window"}});
  }
  if (reward.stock && *reward.stock < r.quantity) {
    throw DomainError(ErrorCode::kOutOfStock,
                      "Only " + std::to_string(*reward.stock) + " of '" + reward.code + "' left",
                      {{"quantity", "more than the stock"}}, {{"stock", *reward.stock}});
  }
  if (r.option &&
      (reward.price.points || static_cast<std::size_t>(*r.option) >= reward.price.options.size())) {
    throw DomainError(ErrorCode::kOptionNotOffered,
                      "Reward '" + reward.code + "' has no price option " + std::to_string(*r.option),
                      {{"option", "no such price option"}});
  }

  // 2. After the lock: the live lots (locked), totals, agreements towards the fulfiller, the id.
  std::vector<lots::LiveLot> live;
  std::int64_t debt = 0, available = 0, redemption_id = 0;
  bool totals = false;
  std::set<std::int64_t> payers;
  for (const auto& row : tx.Exec(store::kRedeemLots, tenant, member.member_id, at, reward.partner_id)) {
    const auto kind = row[0].as<std::string>();
    if (kind == "l") {
      live.push_back(lots::ReadLiveLot(row, 1));
    } else if (kind == "b") {
      debt = row[2].as<std::int64_t>();
      available = row[4].as<std::int64_t>();
      totals = true;
    } else if (kind == "a") {
      payers.insert(row[1].as<std::int64_t>());
    } else {
      redemption_id = row[1].as<std::int64_t>();
    }
  }
  if (!totals) throw std::runtime_error("member " + std::to_string(member.member_id) + " has no balance row");
  // Earliest expiry first, never-expiring last, then oldest lot.
  std::sort(live.begin(), live.end(), [](const lots::LiveLot& a, const lots::LiveLot& b) {
    if (a.expires_at != b.expires_at) return a.expires_at && (!b.expires_at || *a.expires_at < *b.expires_at);
    return a.id < b.id;
  });
  // A point pays for the reward only if its source settles with the fulfiller: the fulfiller's own,
  // or a source with an agreement in force towards it (a cross-redemption is never unpriced).
  std::vector<lots::LiveLot> usable;
  std::set<std::int64_t> blocked;  // sources the member holds points of that cannot pay here
  for (const auto& lot : live) {
    if (lot.source_partner_id == reward.partner_id || payers.contains(lot.source_partner_id)) {
      usable.push_back(lot);
    } else if (lot.remaining > 0) {
      blocked.insert(lot.source_partner_id);
    }
  }
  const auto spendable = Tally(usable, debt);

  // The option: the one named, or the first the member can pay.
  std::optional<std::size_t> option;
  if (!reward.price.points) {
    if (r.option) {
      option = static_cast<std::size_t>(*r.option);
    } else {
      for (std::size_t i = 0; i < reward.price.options.size() && !option; ++i) {
        if (Shortfall(Needs(reward.price, i, r.quantity, ids), spendable).empty()) option = i;
      }
      if (!option) option = 0;  // none payable: report the first option's shortfall
    }
  }
  const auto needs = Needs(reward.price, option, r.quantity, ids);
  const auto shortfall = Shortfall(needs, spendable);
  if (!shortfall.empty() && !blocked.empty() && Shortfall(needs, Tally(live, debt)).empty()) {
    // Enough points, but some of their sources have no agreement with the fulfiller.
    json payers_missing = json::array();
    std::set<std::int64_t> named;
    for (const auto& lot : live) {
      if (blocked.contains(lot.source_partner_id) && named.insert(lot.source_partner_id).second) {
        payers_missing.push_back(lot.source_code);
      }
    }
    const auto first = payers_missing.at(0).get<std::string>();
    throw DomainError(ErrorCode::kNoSettlementAgreement,
                      "No settlement agreement " + first + " -> " + reward.partner +
                          " is in force: points of " + first + " cannot pay for this reward",
                      {{"reward", "no settlement agreement " + first + " -> " + reward.partner}},
                      {{"payer", first}, {"payee", reward.partner}, {"payers", payers_missing}});
  }
  if (!shortfall.empty()) {
    json ext = {{"shortfall", CodesOf(shortfall, ids)}, {"needed", CodesOf(needs, ids)}};
    if (option) ext["option"] = *option;
    std::string detail = "Not enough points:";
    for (const auto& [code, pts] : ext["shortfall"].items()) detail += " " + code + " short by " + pts.dump();
    throw DomainError(ErrorCode::kInsufficientPoints, detail, {{"reward", "not enough points"}}, ext);
  }

  std::vector<lots::Piece> pieces;
  std::int64_t total = 0;
  for (const auto& [src, need] : needs) {
    auto taken = lots::PlanTake(usable, src == -1 ? std::nullopt : std::optional(src), need);
    pieces.insert(pieces.end(), taken.begin(), taken.end());
    total += need;
  }

  // 3. One write of everything, the answer stored with it.
  json taken = json::array();
  std::map<std::int64_t, std::int64_t> per_source;
  for (const auto& p : pieces) {
    taken.push_back({{"lot", p.lot_id}, {"src", p.source_partner_id}, {"pts", p.points}});
    per_source[p.source_partner_id] += p.points;
  }
  json sources = json::array();
  for (const auto& [src, pts] : per_source) sources.push_back({{"src", src}, {"pts", pts}});
  db::StoredAnswer answer{201,
                          {{"redemption_id", redemption_id},
                           {"member_id", member.member_id},
                           {"reward", reward.code},
                           {"fulfiller", reward.partner},
                           {"quantity", r.quantity},
                           {"option", option ? json(*option) : json(nullptr)},
                           {"points", total},
                           {"points_by_source", lots::BySource(pieces)},
                           {"status", "completed"},
                           {"balance", available - total}}};
  const std::optional<std::string> option_text =
      option ? std::optional(std::to_string(*option)) : std::nullopt;
  const auto stock_taken =
      tx.Exec(store::kRedeemWrite, tenant, redemption_id, member.member_id, reward.id, reward.partner_id,
              r.quantity, db::Nullable(option_text), total, db::Nullable(r.card_no), who.key_id, at,
              taken.dump(), sources.dump(), reward.stock.has_value(), key.scope, key.client_id,
              key.request_hash, answer.body.dump())[0][0]
          .as<std::int64_t>();
  if (wrote != nullptr) *wrote = true;
  if (reward.stock && stock_taken == 0) {
    // Sold out meanwhile (or made unlimited): read the stock as it is now.
    const auto now_row = tx.ExecOne(store::kGetReward, tenant, r.reward);
    const auto current = now_row ? ReadReward(*now_row).stock : std::optional<std::int64_t>(0);
    if (current) {
      throw DomainError(ErrorCode::kOutOfStock,
                        "Only " + std::to_string(*current) + " of '" + reward.code + "' left",
                        {{"quantity", "more than the stock"}}, {{"stock", *current}});
    }
    throw DomainError(ErrorCode::kConflict, "Reward '" + reward.code + "' changed meanwhile: try again");
  }
  return {std::move(answer), false};
}

json Cancel(db::Tx& tx, const tenancy::Principal& who, std::int64_t redemption_id, const std::string& reason,
            core::Instant now) {
  const auto tenant = who.tenant_id;
  auto row = tx.ExecOne(store::kLockRedemption, tenant, redemption_id);
  if (!row) throw DomainError(ErrorCode::kNotFound, "No redemption " + std::to_string(redemption_id));
  const auto member_id = (*row)[1].as<std::int64_t>();
  const auto reward_id = (*row)[2].as<std::int64_t>();
  const auto fulfiller = (*row)[3].as<std::int64_t>();
  const auto quantity = (*row)[4].as<std::int64_t>();
  const auto created = core::FromUnixMicros((*row)[7].as<std::int64_t>());
  const std::int64_t requester_partner = (*row)[8].is_null() ? 0 : (*row)[8].as<std::int64_t>();  // 0: none
  if (who.role == Role::kPartner && who.partner_id != fulfiller && who.partner_id != requester_partner) {
    throw DomainError(ErrorCode::kNotFound, "No redemption " + std::to_string(redemption_id));
  }
  if ((*row)[6].as<std::string>() == "cancelled") {
    throw DomainError(ErrorCode::kAlreadyCancelled,
                      "Redemption " + std::to_string(redemption_id) + " is cancelled");
  }
  const auto window_hours = tenancy::GetPolicy(tx, tenant)["cancel_window_hours"].get<std::int64_t>();
  if (now > created + std::chrono::hours(window_hours)) {
    throw DomainError(ErrorCode::kCancelWindowClosed,
                      "Redemptions can be cancelled within " + std::to_string(window_hours) + " hours",
                      {{"redemption_id", "cancellation window closed"}});
  }
  members::MemberService::LockAny(tx, tenant, member_id);
  const auto ref = "redemption:" + std::to_string(redemption_id);
  auto pieces = lots::Restore(tx, tenant, member_id, ref);
  std::map<std::int64_t, std::int64_t> per_source;
  for (const auto& p : pieces) per_source[p.source_partner_id] += p.points;
  for (const auto& [src, pts] : per_source) {
    lots::WriteLedger(tx, tenant, member_id, "cancellation", pts, src, std::nullopt, ref, now);
  }
  BookCancellationLines(tx, tenant, redemption_id, fulfiller, per_source, now, created);
  tx.Exec(store::kMoveStock, tenant, reward_id, quantity);
  tx.Exec(store::kCancelRedemption, tenant, redemption_id, core::FormatRfc3339(now), reason);
  auto out = GetRedemption(tx, who, redemption_id);
  out["balance"] = lots::Available(tx, tenant, member_id, now);
  return out;
}

json GetRedemption(db::Tx& tx, const tenancy::Principal& who, std::int64_t redemption_id) {
  auto row = tx.ExecOne(store::kGetRedemption, who.tenant_id, redemption_id);
  if (!row) throw DomainError(ErrorCode::kNotFound, "No redemption " + std::to_string(redemption_id));
  const auto& r = *row;
  const std::int64_t requester_partner = r[11].is_null() ? 0 : r[11].as<std::int64_t>();  // 0: none
  if (who.role == Role::kPartner && who.partner_id != r[12].as<std::int64_t>() &&
      who.partner_id != requester_partner) {
    throw DomainError(ErrorCode::kNotFound, "No redemption " + std::to_string(redemption_id));
  }
  json lines = json::array();
  json by_source = json::object();
  for (const auto& l : tx.Exec(store::kRedemptionLines, who.tenant_id, redemption_id)) {
    const auto kind = l[3].as<std::string>();
    if (kind == "redemption") by_source[l[0].as<std::string>()] = l[2].as<std::int64_t>();
    lines.push_back({{"source", l[0].as<std::string>()},
                     {"fulfiller", l[1].as<std::string>()},
                     {"points", l[2].as<std::int64_t>()},
                     {"kind", kind},
                     {"path", l[0].as<std::string>() == l[1].as<std::string>() ? "internal" : "cross"},
                     {"booked_at", core::FormatRfc3339(core::FromUnixMicros(l[4].as<std::int64_t>()))}});
  }
  return {{"redemption_id", r[0].as<std::int64_t>()},
          {"member_id", r[1].as<std::int64_t>()},
          {"reward", r[2].as<std::string>()},
          {"fulfiller", r[3].as<std::string>()},
          {"quantity", r[4].as<std::int64_t>()},
          {"option", r[5].is_null() ? json(nullptr) : json(r[5].as<std::int64_t>())},
          {"points", r[6].as<std::int64_t>()},
          {"points_by_source", by_source},
          {"status", r[7].as<std::string>()},
          {"created_at", TimeOrNull(r[8])},
          {"cancelled_at", TimeOrNull(r[9])},
          {"cancel_reason", r[10].is_null() ? json(nullptr) : json(r[10].as<std::string>())},
          {"settlement_lines", lines}};
}

}  // namespace unipoints::spending
