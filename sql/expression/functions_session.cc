// SPDX-License-Identifier: Apache-2.0
// Values that come from the session rather than from rows: DATABASE(), CONNECTION_ID(), USER(),
// CURRENT_USER(), VERSION(), NOW(), CURDATE(), and @user / @@system variables. Each compiles to
// a constant of the type StarRocks gives it, so the rest of an expression treats it as a literal.
#include "io/ascii.hh"
#include "sql/expression/eval_nodes.hh"
#include "sql/variables.hh"
#include "storage/values.hh"

#include <fmt/format.h>

#include <charconv>
#include <ctime>

namespace tv::sql {

namespace {

using storage::column_type;
using storage::type_kind;

/// The current UTC time as "yyyy-MM-dd HH:mm:ss" (time functions ignore time_zone).
std::string now_text() {
    time_t t = ::time(nullptr);
    tm utc{};
    ::gmtime_r(&t, &utc);
    return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
                       utc.tm_hour, utc.tm_min, utc.tm_sec);
}

expr_ptr text_constant(std::string_view text) {
    return make_constant(varchar_type(), text);
}

/// `text` read as a DATE or DATETIME constant.
expr_ptr temporal_constant(type_kind kind, std::string_view text) {
    const column_type t{kind};
    auto parsed = storage::parse_typed(t, text);
    if (!parsed) {
        throw std::logic_error(fmt::format("the current time '{}' did not parse: {}", text, parsed.error().message));
    }
    return make_constant(t, parsed->as_cell());
}

/// A system variable's text, a BIGINT when the variable is numeric and the text a number.
expr_ptr variable_constant(const system_variable& known, const std::string& value) {
    if (known.numeric) {
        int64_t n = 0;
        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
        if (ec == std::errc{} && end == value.data() + value.size()) {
            return make_constant(simple_type(type_kind::bigint), n);
        }
    }
    return text_constant(value);
}

}  // namespace

std::optional<sql_result<expr_ptr>> make_session_function(std::string_view name, const function_args& args,
                                                          const session& s) {
    const bool no_args = args.empty();
    if ((name == "database" || name == "schema") && no_args) {
        return s.current_db.empty() ? make_null_literal() : text_constant(s.current_db);
    }
    if (name == "connection_id" && no_args) {
        return make_constant(simple_type(type_kind::bigint), int64_t{s.connection_id});
    }
    if ((name == "user" || name == "session_user" || name == "system_user") && no_args) {
        return text_constant(fmt::format("{}@{}", s.user, s.client_host));
    }
    if (name == "current_user" && no_args) {
        return text_constant(fmt::format("'{}'@'{}'", s.user, s.host));
    }
    if (name == "version" && no_args) {
        return text_constant(*variable_value(s, "version"));
    }
    // NOW(precision) is accepted and shows whole seconds.
    if ((name == "now" || name == "current_timestamp" || name == "localtime" || name == "sysdate") &&
        args.size() <= 1) {
        return temporal_constant(type_kind::datetime, now_text());
    }
    if ((name == "curdate" || name == "current_date") && no_args) {
        return temporal_constant(type_kind::date, now_text().substr(0, 10));
    }
    return std::nullopt;
}

sql_result<expr_ptr> make_variable(const variable_ref& v, const session& s) {
    if (v.scope == variable_scope::user) {
        auto it = s.user_variables.find(ascii_lower(v.name));
        if (it == s.user_variables.end() || !it->second) {
            return make_null_literal();
        }
        return text_constant(*it->second);
    }
    const system_variable* known = find_system_variable(v.name);
    if (known == nullptr) {
        return make_error(errc::unknown_system_variable, "Unknown system variable '{}'", v.name);
    }
    if (v.scope == variable_scope::global) {
        return variable_constant(*known, std::string(known->default_value));
    }
    return variable_constant(*known, *variable_value(s, v.name));
}

}  // namespace tv::sql
