#pragma once
// Partner statements of a settlement run, derived from the run's stored canonical content (never
// recomputed) plus the redemption-level lines of the period; the partner's acknowledgement or
// dispute of a final run; and reconciliation of a partner's own redemption_id,points CSV.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "unipoints/core/time.hpp"
#include "unipoints/db/database.hpp"
#include "unipoints/tenancy/principal.hpp"

namespace unipoints::settlement {

// 403 unless `who` may see `partner`'s statement: finance and admin any, a partner key its own.
void CheckStatementAccess(const tenancy::Principal& who, const std::string& partner);

// The statement as JSON: {header, position, receivables, payables, cancellations,
// prior_period_adjustments, bilateral_nets, instructions, detail}. 404 when the period has no run
// or the partner is unknown.
nlohmann::json GetStatement(db::Tx& tx, const tenancy::Principal& who, core::Period period,
                            const std::string& partner);

// The same statement as CSV: UTF-8 with BOM, CRLF, RFC 4180 quoting, one header row per section.
std::string StatementCsv(const nlohmann::json& statement);

enum class StatementFormat { kJson, kCsv, kPdf };
// Content negotiation on an Accept header (empty: JSON); 406 not_acceptable when nothing fits.
StatementFormat NegotiateStatementFormat(std::string_view accept);

// The partner key's answer to its statement of a final run ("acknowledged" or "disputed"):
// 409 run_not_final for a draft, 409 already_answered when it answered otherwise; repeating the
// same answer returns it unchanged.
nlohmann::json AnswerStatement(db::Tx& tx, const tenancy::Principal& who, core::Period period,
                               const std::string& partner, const std::string& status,
                               const std::optional<std::string>& reason, core::Instant now);

struct ReconcileLine {
  std::int64_t redemption_id = 0;
  std::int64_t points = 0;
};
inline constexpr std::size_t kMaxReconcileLines = 100'000;
// Parses a `redemption_id,points` CSV (optional BOM, header row, CRLF or LF); 400 naming the line
// for a malformed one or a repeated redemption_id, 413 past kMaxReconcileLines data lines.
std::vector<ReconcileLine> ParseReconcileCsv(std::string_view body);
// Compares the partner's lines with the server's net points per redemption of the period.
nlohmann::json Reconcile(db::Tx& tx, const tenancy::Principal& who, core::Period period,
                         const std::vector<ReconcileLine>& lines);

// One RFC 4180 field: quoted (with inner quotes doubled) when it holds a comma, quote, CR or LF.
std::string CsvField(std::string_view value);
// Splits one CSV record (without its line end) into fields, undoing RFC 4180 quoting; nullopt when
// the quoting is malformed.
std::optional<std::vector<std::string>> SplitCsvRecord(std::string_view record);
// Minor units as a decimal currency string: FormatMinor(-12345, 2) == "-123.45".
std::string FormatMinor(std::int64_t minor, int minor_units);

}  // namespace unipoints::settlement
