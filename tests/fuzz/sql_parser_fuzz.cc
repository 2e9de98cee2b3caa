// SPDX-License-Identifier: Apache-2.0
// Fuzzes the SQL parser with whole COM_QUERY strings. Besides not crashing, a statement that
// parsed must parse again from its own source text (parsed_statement::text), alone.
#include "sql/parser/parser.hh"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view sql(reinterpret_cast<const char*>(data), size);
    auto parsed = tv::sql::parse_sql(sql);
    if (auto* statements = std::get_if<std::vector<tv::sql::parsed_statement>>(&parsed)) {
        for (const auto& statement : *statements) {
            auto again = tv::sql::parse_sql(statement.text);
            auto* alone = std::get_if<std::vector<tv::sql::parsed_statement>>(&again);
            if (alone == nullptr || alone->size() != 1) {
                std::abort();  // the text the parser reported is not the statement it parsed
            }
        }
    }
    return 0;
}
