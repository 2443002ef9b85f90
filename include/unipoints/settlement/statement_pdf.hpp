#pragma once
// A statement as PDF (libharu), with a TrueType CJK font embedded so Chinese partner names render
// on any viewer. The bytes depend only on the statement and the font: no clock, no random id.

#include <string>

#include <nlohmann/json_fwd.hpp>

namespace unipoints::settlement {

// Renders the JSON statement of GetStatement. Throws std::runtime_error when the font cannot be
// loaded or libharu fails.
std::string StatementPdf(const nlohmann::json& statement, const std::string& font_path);

}  // namespace unipoints::settlement
