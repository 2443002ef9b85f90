#include "unipoints/settlement/statement_service.hpp"

#include <csv.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <unordered_map>

#include "statement_store.hpp"
#include "unipoints/core/error.hpp"

namespace unipoints::settlement {
namespace {

using core::DomainError;
using core::ErrorCode;
using nlohmann::json;
namespace st = statement_store;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<std::int64_t> ParseInt(std::string_view s) {
  s = Trim(s);
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::int64_t Int(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

json Array(const json& content, const char* key) {
  auto it = content.find(key);
  return it != content.end() && it->is_array() ? *it : json::array();
}

struct PartnerRow {
  std::int64_t id = 0;
  std::string name;
};

PartnerRow FindPartner(db::Tx& tx, std::int64_t tenant_id, const std::string& code) {
  auto row = tx.ExecOne(st::kPartner, tenant_id, code);
  if (!row) throw DomainError(ErrorCode::kNotFound, "No partner " + code);
  return {(*row)[0].as<std::int64_t>(), (*row)[1].as<std::string>()};
}

json ResponseOf(db::Tx& tx, std::int64_t tenant_id, core::Period period, std::int64_t partner_id) {
  auto row = tx.ExecOne(st::kResponse, tenant_id, period.ToString(), partner_id);
  if (!row) return nullptr;
  return {{"status", (*row)[0].as<std::string>()},
          {"reason", (*row)[1].is_null() ? json(nullptr) : json((*row)[1].as<std::string>())},
          {"at", core::FormatRfc3339(core::FromUnixMicros((*row)[2].as<std::int64_t>()))}};
}

void Row(std::string& out, const std::vector<std::string>& fields) {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) out += ',';
    out += CsvField(fields[i]);
  }
  out += "\r\n";
}

}  // namespace

void CheckStatementAccess(const tenancy::Principal& who, const std::string& partner) {
  if (who.role == tenancy::Role::kFinance || who.role == tenancy::Role::kAdmin) return;
  if (who.role == tenancy::Role::kPartner && who.partner_code == partner) return;
  throw DomainError(ErrorCode::kForbidden, "This key may only see its own partner's statement");
}

json GetStatement(db::Tx& tx, const tenancy::Principal& who, core::Period period,
                  const std::string& partner) {
  CheckStatementAccess(who, partner);
  const auto p = FindPartner(tx, who.tenant_id, partner);
  auto run = tx.ExecOne(st::kRun, who.tenant_id, period.ToString());
  if (!run) throw DomainError(ErrorCode::kNotFound, "No settlement run for " + period.ToString());
  const auto run_status = (*run)[0].as<std::string>();
  const auto content = json::parse((*run)[1].as<std::string>());
  const auto hash = (*run)[2].as<std::string>();

  std::map<std::string, std::string> names;
  for (const auto& r : tx.Exec(st::kPartnerNames, who.tenant_id)) {
    names[r[0].as<std::string>()] = r[1].as<std::string>();
  }
  auto name_of = [&names](const std::string& code) {
    auto it = names.find(code);
    return it == names.end() ? std::string() : it->second;
  };
  std::string tenant_name;
  if (auto t = tx.ExecOne(st::kTenantName, who.tenant_id)) tenant_name = (*t)[0].as<std::string>();

  json response = nullptr;
  std::string status = run_status;
  if (run_status == "final") {
    response = ResponseOf(tx, who.tenant_id, period, p.id);
    if (!response.is_null()) status = response["status"].get<std::string>();
  }
  json header = {{"tenant", Str(content, "tenant")},
                 {"tenant_name", tenant_name},
                 {"partner", partner},
                 {"partner_name", p.name},
                 {"period", period.ToString()},
                 {"currency", Str(content, "currency")},
                 {"minor_units", Int(content, "minor_units")},
                 {"starts_at", Str(content, "starts_at")},
                 {"ends_at", Str(content, "ends_at")},
                 {"status", status},
                 {"run_status", run_status},
                 {"content_hash", hash},
                 {"response", response}};

  json receivables = json::array(), payables = json::array();
  for (const auto& x : Array(content, "pairs")) {
    const auto payer = Str(x, "payer"), payee = Str(x, "payee");
    if (payee == partner || payer == partner) {
      const auto counterparty = payee == partner ? payer : payee;
      json line = {{"counterparty", counterparty},
                   {"counterparty_name", name_of(counterparty)},
                   {"points", Int(x, "points")},
                   {"price_per_point", Str(x, "price_per_point")},
                   {"amount_minor", Int(x, "amount_minor")}};
      (payee == partner ? receivables : payables).push_back(std::move(line));
    }
  }
  json position = {{"receivable_minor", 0}, {"payable_minor", 0}, {"net_minor", 0}};
  for (const auto& x : Array(content, "positions")) {
    if (Str(x, "partner") == partner) {
      position = {{"receivable_minor", Int(x, "receivable_minor")},
                  {"payable_minor", Int(x, "payable_minor")},
                  {"net_minor", Int(x, "net_minor")}};
    }
  }
  auto involving = [&partner](const json& list, const char* k1, const char* k2) {
    json out = json::array();
    for (const auto& x : list) {
      if (Str(x, k1) == partner || Str(x, k2) == partner) out.push_back(x);
    }
    return out;
  };

  json breakage = {{"points_expired", 0}, {"points_carried_over", 0}};
  for (const auto& x : Array(content, "breakage")) {
    if (Str(x, "partner") == partner) {
      breakage = {{"points_expired", Int(x, "points_expired")},
                  {"points_carried_over", Int(x, "points_carried_over")}};
    }
  }
  json detail = json::array();
  for (const auto& r : tx.Exec(st::kDetail, who.tenant_id, period.ToString(), p.id)) {
    detail.push_back({{"redemption_id", r[0].as<std::int64_t>()},
                      {"booked_at", core::FormatRfc3339(core::FromUnixMicros(r[1].as<std::int64_t>()))},
                      {"kind", r[2].as<std::string>()},
                      {"source", r[3].as<std::string>()},
                      {"fulfiller", r[4].as<std::string>()},
                      {"points", r[5].as<std::int64_t>()}});
  }
  return {
      {"header", header},
      {"position", position},
      {"receivables", receivables},
      {"payables", payables},
      {"cancellations", involving(Array(content, "cancellations"), "payer", "payee")},
      {"prior_period_adjustments", involving(Array(content, "prior_period_adjustments"), "payer", "payee")},
      {"bilateral_nets", involving(Array(content, "bilateral_nets"), "a", "b")},
      {"instructions", involving(Array(content, "instructions"), "from", "to")},
      {"breakage", breakage},
      {"detail", detail}};
}

std::string StatementCsv(const json& s) {
  const auto& h = s.at("header");
  const int mu = static_cast<int>(Int(h, "minor_units"));
  auto money = [mu](std::int64_t minor) { return FormatMinor(minor, mu); };
  auto num = [](std::int64_t v) { return std::to_string(v); };
  auto opt = [](const json& j, const char* key) {
    auto it = j.find(key);
    return it == j.end() || it->is_null() ? std::string() : it->get<std::string>();
  };
  std::string out = "\xEF\xBB\xBF";
  Row(out, {"section", "field", "value"});
  for (const char* k : {"tenant", "tenant_name", "partner", "partner_name", "period", "currency", "starts_at",
                        "ends_at", "status", "run_status", "content_hash"}) {
    Row(out, {"header", k, Str(h, k)});
  }
  Row(out, {"header", "minor_units", num(mu)});
  const auto& resp = h.at("response");
  Row(out, {"header", "response_reason", resp.is_null() ? "" : opt(resp, "reason")});
  Row(out, {"header", "response_at", resp.is_null() ? "" : opt(resp, "at")});

  out += "\r\n";
  Row(out, {"section", "field", "amount", "amount_minor"});
  const auto& pos = s.at("position");
  for (const char* k : {"receivable", "payable", "net"}) {
    const auto v = Int(pos, (std::string(k) + "_minor").c_str());
    Row(out, {"position", k, money(v), num(v)});
  }
  for (const char* section : {"receivables", "payables"}) {
    out += "\r\n";
    Row(out, {"section", "counterparty", "counterparty_name", "points", "price_per_point", "amount",
              "amount_minor"});
    const std::string label = section == std::string_view("receivables") ? "receivable" : "payable";
    for (const auto& x : s.at(section)) {
      Row(out, {label, Str(x, "counterparty"), Str(x, "counterparty_name"), num(Int(x, "points")),
                Str(x, "price_per_point"), money(Int(x, "amount_minor")), num(Int(x, "amount_minor"))});
    }
  }
  out += "\r\n";
  Row(out, {"section", "payer", "payee", "points"});
  for (const auto& x : s.at("cancellations")) {
    Row(out, {"cancellation", Str(x, "payer"), Str(x, "payee"), num(Int(x, "points"))});
  }
  out += "\r\n";
  Row(out, {"section", "redemption_id", "original_period", "payer", "payee", "points"});
  for (const auto& x : s.at("prior_period_adjustments")) {
    Row(out, {"prior_period_adjustment", num(Int(x, "redemption_id")), Str(x, "original_period"),
              Str(x, "payer"), Str(x, "payee"), num(Int(x, "points"))});
  }
  out += "\r\n";
  Row(out, {"section", "a", "b", "a_pays_b", "a_pays_b_minor", "b_pays_a", "b_pays_a_minor", "net",
            "net_minor", "payer", "payee"});
  for (const auto& x : s.at("bilateral_nets")) {
    Row(out, {"bilateral_net", Str(x, "a"), Str(x, "b"), money(Int(x, "a_pays_b_minor")),
              num(Int(x, "a_pays_b_minor")), money(Int(x, "b_pays_a_minor")), num(Int(x, "b_pays_a_minor")),
              money(Int(x, "net_minor")), num(Int(x, "net_minor")), opt(x, "payer"), opt(x, "payee")});
  }
  out += "\r\n";
  Row(out, {"section", "from", "to", "amount", "amount_minor"});
  for (const auto& x : s.at("instructions")) {
    Row(out, {"instruction", Str(x, "from"), Str(x, "to"), money(Int(x, "amount_minor")),
              num(Int(x, "amount_minor"))});
  }
  out += "\r\n";
  Row(out, {"section", "field", "points"});
  for (const char* k : {"points_expired", "points_carried_over"}) {
    Row(out, {"breakage", k, num(Int(s.at("breakage"), k))});
  }
  out += "\r\n";
  Row(out, {"section", "redemption_id", "booked_at", "kind", "source", "fulfiller", "points"});
  for (const auto& x : s.at("detail")) {
    Row(out, {"detail", num(Int(x, "redemption_id")), Str(x, "booked_at"), Str(x, "kind"), Str(x, "source"),
              Str(x, "fulfiller"), num(Int(x, "points"))});
  }
  return out;
}

StatementFormat NegotiateStatementFormat(std::string_view accept) {
  if (Trim(accept).empty()) return StatementFormat::kJson;
  std::optional<StatementFormat> best;
  double best_q = 0;
  std::size_t start = 0;
  while (start <= accept.size()) {
    auto end = accept.find(',', start);
    if (end == std::string_view::npos) end = accept.size();
    auto range = accept.substr(start, end - start);
    start = end + 1;
    auto semi = range.find(';');
    const auto type = Lower(Trim(range.substr(0, semi)));
    double q = 1;
    while (semi != std::string_view::npos) {
      auto next = range.find(';', semi + 1);
      auto param = Trim(range.substr(semi + 1, next == std::string_view::npos ? next : next - semi - 1));
      if (param.size() > 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
        try {
          q = std::stod(std::string(param.substr(2)));
        } catch (const std::exception&) {
          q = 0;
        }
      }
      semi = next;
    }
    std::optional<StatementFormat> f;
    if (type == "application/json" || type == "application/*" || type == "*/*") f = StatementFormat::kJson;
    if (type == "text/csv" || type == "text/*") f = StatementFormat::kCsv;
    if (type == "application/pdf") f = StatementFormat::kPdf;
    if (f && q > best_q) {
      best = f;
      best_q = q;
    }
  }
  if (!best) {
    throw DomainError(ErrorCode::kNotAcceptable,
                      "A statement is offered as application/json, text/csv or application/pdf, not '" +
                          std::string(accept) + "'",
                      {{"Accept", "must accept application/json, text/csv or application/pdf"}});
  }
  return *best;
}

json AnswerStatement(db::Tx& tx, const tenancy::Principal& who, core::Period period,
                     const std::string& partner, const std::string& status,
                     const std::optional<std::string>& reason, core::Instant now) {
  if (who.role != tenancy::Role::kPartner || who.partner_code != partner) {
    throw DomainError(ErrorCode::kForbidden, "Only the partner itself answers its statement");
  }
  const auto p = FindPartner(tx, who.tenant_id, partner);
  auto run = tx.ExecOne(st::kRun, who.tenant_id, period.ToString());
  if (!run) throw DomainError(ErrorCode::kNotFound, "No settlement run for " + period.ToString());
  if ((*run)[0].as<std::string>() != "final") {
    throw DomainError(ErrorCode::kRunNotFinal,
                      "The run of " + period.ToString() + " is a draft: only a final statement is answered");
  }
  auto existing = ResponseOf(tx, who.tenant_id, period, p.id);
  if (existing.is_null()) {
    std::optional<std::string> r = reason;
    tx.Exec(st::kInsertResponse, who.tenant_id, period.ToString(), p.id, status, db::Nullable(r),
            core::ToUnixMicros(now));
    existing = ResponseOf(tx, who.tenant_id, period, p.id);
  } else if (existing["status"] != status) {
    throw DomainError(
        ErrorCode::kAlreadyAnswered,
        "The statement of " + period.ToString() + " is already " + existing["status"].get<std::string>(), {},
        {{"answer", existing}});
  }
  if (existing["status"] != status) {  // a concurrent answer won the race
    throw DomainError(
        ErrorCode::kAlreadyAnswered,
        "The statement of " + period.ToString() + " is already " + existing["status"].get<std::string>(), {},
        {{"answer", existing}});
  }
  json out = existing;
  out["period"] = period.ToString();
  out["partner"] = partner;
  out["content_hash"] = (*run)[2].as<std::string>();
  return out;
}

std::vector<ReconcileLine> ParseReconcileCsv(std::string_view body) {
  if (body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);
  std::vector<ReconcileLine> out;
  std::unordered_map<std::int64_t, std::size_t> seen;
  std::size_t line_no = 0;
  bool header = false;
  auto fail = [&line_no](const std::string& message) {
    core::ThrowField("line " + std::to_string(line_no), message);
  };
  std::size_t start = 0;
  while (start < body.size()) {
    auto end = body.find('\n', start);
    if (end == std::string_view::npos) end = body.size();
    auto line = body.substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (Trim(line).empty()) continue;
    auto fields = SplitCsvRecord(line);
    if (!fields) fail("malformed quoting");
    if (!header) {
      if (fields->size() != 2 || Lower(Trim((*fields)[0])) != "redemption_id" ||
          Lower(Trim((*fields)[1])) != "points") {
        fail("the first line must be the header redemption_id,points");
      }
      header = true;
      continue;
    }
    if (fields->size() != 2) fail("expected 2 fields, found " + std::to_string(fields->size()));
    auto id = ParseInt((*fields)[0]);
    if (!id || *id <= 0) fail("redemption_id must be a positive integer");
    auto points = ParseInt((*fields)[1]);
    if (!points) fail("points must be an integer");
    if (auto [it, fresh] = seen.emplace(*id, line_no); !fresh) {
      fail("redemption_id " + std::to_string(*id) + " repeats line " + std::to_string(it->second));
    }
    if (out.size() >= kMaxReconcileLines) {
      throw DomainError(ErrorCode::kPayloadTooLarge,
                        "At most " + std::to_string(kMaxReconcileLines) + " lines are reconciled at once",
                        {{"body", "more than " + std::to_string(kMaxReconcileLines) + " lines"}});
    }
    out.push_back({*id, *points});
  }
  if (!header) {
    line_no = 1;
    fail("the first line must be the header redemption_id,points");
  }
  return out;
}

json Reconcile(db::Tx& tx, const tenancy::Principal& who, core::Period period,
               const std::vector<ReconcileLine>& lines) {
  if (!who.partner_id) throw DomainError(ErrorCode::kForbidden, "Reconciliation is for a partner key");
  std::map<std::int64_t, std::int64_t> server, partner;
  for (const auto& r : tx.Exec(st::kReconcileServer, who.tenant_id, period.ToString(), *who.partner_id)) {
    server[r[0].as<std::int64_t>()] = r[1].as<std::int64_t>();
  }
  for (const auto& l : lines) partner[l.redemption_id] = l.points;
  std::int64_t matched = 0;
  json missing_on_server = json::array(), missing_on_partner = json::array(), differences = json::array();
  for (const auto& [id, points] : partner) {
    auto it = server.find(id);
    if (it == server.end()) {
      missing_on_server.push_back({{"redemption_id", id}, {"points", points}});
    } else if (it->second == points) {
      ++matched;
    } else {
      differences.push_back(
          {{"redemption_id", id}, {"server_points", it->second}, {"partner_points", points}});
    }
  }
  for (const auto& [id, points] : server) {
    if (!partner.contains(id)) missing_on_partner.push_back({{"redemption_id", id}, {"points", points}});
  }
  return {{"period", period.ToString()},
          {"partner", who.partner_code},
          {"lines", lines.size()},
          {"matched", matched},
          {"missing_on_server", missing_on_server},
          {"missing_on_partner", missing_on_partner},
          {"differences", differences}};
}

std::string CsvField(std::string_view value) {
  if (value.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(value);
  std::string out(csv_write(nullptr, 0, value.data(), value.size()), '\0');  // libcsv's quoting
  csv_write(out.data(), out.size(), value.data(), value.size());
  return out;
}

std::optional<std::vector<std::string>> SplitCsvRecord(std::string_view record) {
  if (record.empty()) return std::vector<std::string>{""};
  struct Collect {
    std::vector<std::string> fields;
    int rows = 0;
  } collect;
  csv_parser parser{};
  if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) throw std::bad_alloc();
  auto on_field = [](void* s, std::size_t len, void* data) {
    static_cast<Collect*>(data)->fields.emplace_back(static_cast<const char*>(s), len);
  };
  auto on_row = [](int, void* data) { ++static_cast<Collect*>(data)->rows; };
  const bool parsed =
      csv_parse(&parser, record.data(), record.size(), on_field, on_row, &collect) == record.size() &&
      csv_fini(&parser, on_field, on_row, &collect) == 0;
  csv_free(&parser);
  // One record, strictly quoted (no quote inside an unquoted field, nothing after a closing one).
  if (!parsed || collect.rows != 1) return std::nullopt;
  return std::move(collect.fields);
}

std::string FormatMinor(std::int64_t minor, int minor_units) {
  const bool negative = minor < 0;
  std::uint64_t v = negative ? 0 - static_cast<std::uint64_t>(minor) : static_cast<std::uint64_t>(minor);
  std::string digits = std::to_string(v);
  if (minor_units > 0) {
    if (digits.size() <= static_cast<std::size_t>(minor_units)) {
      digits.insert(0, static_cast<std::size_t>(minor_units) + 1 - digits.size(), '0');
    }
    digits.insert(digits.size() - static_cast<std::size_t>(minor_units), 1, '.');
  }
  return negative ? "-" + digits : digits;
}

}  // namespace unipoints::settlement
