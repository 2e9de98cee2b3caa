// SPDX-License-Identifier: Apache-2.0
// String functions: concat, concat_ws, length, char_length, upper, lower, substr, left, right,
// lpad, rpad, repeat, trim, ltrim, rtrim, replace. Positions and lengths count UTF-8
// characters, as StarRocks does; length() counts bytes.
#include "io/ascii.hh"
#include "sql/expression/eval_nodes.hh"

#include <charconv>
#include <cstring>
#include <map>

namespace tv::sql {

namespace {

using storage::column_type;
using storage::type_kind;

/// No string value may outgrow what one packet can carry back to the client.
constexpr size_t max_string_value = 64u << 20;

sql_error too_large(std::string_view name) {
    return make_error(errc::unknown, "Result of {}() was larger than max_allowed_packet ({})", name, max_string_value);
}

/// Byte offset after `chars` UTF-8 characters of s (s.size() when it has fewer).
size_t skip_chars(std::string_view s, int64_t chars) {
    size_t at = 0;
    while (chars > 0 && at < s.size()) {
        ++at;
        while (at < s.size() && (static_cast<unsigned char>(s[at]) & 0xc0) == 0x80) {
            ++at;
        }
        --chars;
    }
    return at;
}

int64_t count_chars(std::string_view s) {
    int64_t n = 0;
    for (unsigned char c : s) {
        n += (c & 0xc0) != 0x80;
    }
    return n;
}

int64_t int_at(const value_vector& v, size_t i) {
    return v.column().values<int64_t>()[v.slot(i)];
}

/// A VARCHAR result built row by row: f(i, bytes) appends row i's value and returns false
/// for NULL. Rows where an argument is NULL are NULL without calling f (unless !propagate).
template <class F>
sql_result<value_vector> text_rows(const kernel_args& k, bool propagate, std::string_view name, F f) {
    std::vector<const value_vector*> ins;
    for (const auto& a : k.args) {
        ins.push_back(&a);
    }
    std::vector<uint8_t> nulls = vec::union_nulls(ins, k.n, propagate && k.self.nullable());
    size_t hint = 0;
    for (const auto& a : k.args) {
        if (a.column().type() == storage::physical_type::bytes) {
            hint += a.constant() ? a.column().bytes().size() * k.n : a.column().bytes().size();
        }
    }
    vec::string_builder out(k.n, k.self.nullable(), hint);
    for (size_t i = 0; i < k.n; ++i) {
        if (!nulls.empty() && nulls[i] != 0) {
            out.append_null();
            continue;
        }
        size_t start = out.bytes.size();
        if (f(i, out.bytes)) {
            out.end_row();
        } else {
            out.bytes.resize(start);
            out.append_null();
        }
        if (out.bytes.size() > max_string_value) {
            return too_large(name);
        }
    }
    return result(out.finish(), k);
}

template <class F>
sql_result<value_vector> int_rows(const kernel_args& k, F f) {
    std::vector<const value_vector*> ins;
    for (const auto& a : k.args) {
        ins.push_back(&a);
    }
    std::vector<uint8_t> nulls = vec::union_nulls(ins, k.n, k.self.nullable());
    std::vector<int32_t> out(k.n);
    for (size_t i = 0; i < k.n; ++i) {
        if (nulls.empty() || nulls[i] == 0) {
            out[i] = static_cast<int32_t>(f(i));
        }
    }
    return result(storage::column_vector::from_values<int32_t>(k.self.nullable(), std::move(out), std::move(nulls)), k);
}

/// concat: the hot path of generated text columns. Each argument is text, or an integer
/// (BIGINT) formatted straight into the result, so CAST(id AS VARCHAR) inside concat makes no
/// intermediate column. One buffer sized for the longest outcome, one copy per piece.
sql_result<value_vector> concat_kernel(const kernel_args& k, const std::vector<bool>& numbers) {
    const size_t n = k.n;
    std::vector<const value_vector*> ins;
    for (const auto& a : k.args) {
        ins.push_back(&a);
    }
    std::vector<uint8_t> nulls = vec::union_nulls(ins, n, k.self.nullable());
    struct piece {
        const uint64_t* offsets = nullptr;
        const char* bytes = nullptr;
        const int64_t* numbers = nullptr;
        bool constant = false;
    };
    std::vector<piece> pieces;
    size_t bound = 0;
    for (size_t j = 0; j < k.args.size(); ++j) {
        const auto& c = k.args[j].column();
        piece p;
        p.constant = k.args[j].constant();
        if (numbers[j]) {
            p.numbers = c.values<int64_t>().data();
            bound += 20 * n;
        } else {
            p.offsets = c.offsets().data();
            p.bytes = c.bytes().data();
            bound += p.constant ? c.bytes().size() * n : c.bytes().size();
        }
        pieces.push_back(p);
    }
    std::vector<uint64_t> offsets(n + 1);
    std::string bytes;
    bytes.resize(bound);
    char* out = bytes.data();
    size_t at = 0;
    for (size_t i = 0; i < n; ++i) {
        if (nulls.empty() || nulls[i] == 0) {
            for (const piece& p : pieces) {
                const size_t s = p.constant ? 0 : i;
                if (p.numbers != nullptr) {
                    at = static_cast<size_t>(std::to_chars(out + at, out + at + 20, p.numbers[s]).ptr - out);
                } else {
                    const uint64_t from = p.offsets[s];
                    const uint64_t len = p.offsets[s + 1] - from;
                    std::memcpy(out + at, p.bytes + from, len);
                    at += len;
                }
            }
            if (at - offsets[i] > max_string_value) {
                return too_large("concat");
            }
        }
        offsets[i + 1] = at;
    }
    bytes.resize(at);
    return result(storage::column_vector::from_strings(k.self.nullable(), std::move(offsets), std::move(bytes),
                                                       std::move(nulls)),
                  k);
}

std::string_view trim_view(std::string_view s, bool left, bool right) {
    while (left && !s.empty() && s.front() == ' ') {
        s.remove_prefix(1);
    }
    while (right && !s.empty() && s.back() == ' ') {
        s.remove_suffix(1);
    }
    return s;
}

/// Pads or cuts s to `length` characters with `pad` on the left or right; false for NULL.
bool pad(std::string_view s, int64_t length, std::string_view fill, bool left, std::string& out) {
    if (length < 0) {
        return false;
    }
    int64_t have = count_chars(s);
    if (have >= length) {
        out.append(s.substr(0, skip_chars(s, length)));
        return true;
    }
    if (fill.empty()) {
        return false;
    }
    if (static_cast<uint64_t>(length) * 4 > max_string_value) {
        return false;
    }
    std::string padding;
    int64_t need = length - have;
    int64_t fill_chars = count_chars(fill);
    while (need >= fill_chars) {
        padding.append(fill);
        need -= fill_chars;
    }
    padding.append(fill.substr(0, skip_chars(fill, need)));
    if (left) {
        out.append(padding).append(s);
    } else {
        out.append(s).append(padding);
    }
    return true;
}

bool substr(std::string_view s, int64_t pos, std::optional<int64_t> len, std::string& out) {
    if (pos == 0 || (len && *len <= 0)) {
        return true;
    }
    int64_t chars = count_chars(s);
    int64_t start = pos > 0 ? pos - 1 : chars + pos;
    if (start < 0 || start >= chars) {
        return true;
    }
    size_t from = skip_chars(s, start);
    std::string_view rest = s.substr(from);
    out.append(len ? rest.substr(0, skip_chars(rest, *len)) : rest);
    return true;
}

struct spec {
    size_t min_args;
    size_t max_args;
};

}  // namespace

std::optional<sql_result<expr_ptr>> make_string_function(std::string_view name, function_args& args,
                                                         const std::string& text) {
    static const std::map<std::string_view, spec> known = {
        {"concat", {1, SIZE_MAX}}, {"concat_ws", {2, SIZE_MAX}}, {"length", {1, 1}}, {"octet_length", {1, 1}},
        {"char_length", {1, 1}},   {"character_length", {1, 1}}, {"upper", {1, 1}}, {"ucase", {1, 1}},
        {"lower", {1, 1}},         {"lcase", {1, 1}},            {"substr", {2, 3}}, {"substring", {2, 3}},
        {"left", {2, 2}},          {"right", {2, 2}},            {"lpad", {3, 3}},  {"rpad", {3, 3}},
        {"repeat", {2, 2}},        {"trim", {1, 1}},             {"ltrim", {1, 1}}, {"rtrim", {1, 1}},
        {"replace", {3, 3}},
    };
    auto it = known.find(name);
    if (it == known.end()) {
        return std::nullopt;
    }
    if (args.size() < it->second.min_args || args.size() > it->second.max_args) {
        return wrong_arg_count(name);
    }
    if (name == "concat") {
        // Integers (also under a CAST to text) are formatted by the kernel itself.
        std::vector<bool> numbers;
        bool nullable = false;
        for (auto& a : args) {
            expr_ptr source = a->cast_input();
            if (source && types::is_string(a->type()) && types::is_integral(source->type())) {
                a = source;
            }
            bool number = !a->null_literal() && types::is_integral(a->type());
            auto c = convert_if_needed(a, number ? simple_type(type_kind::bigint) : varchar_type());
            if (!c) {
                return c;
            }
            a = std::move(*c);
            numbers.push_back(number);
            nullable = nullable || a->nullable();
        }
        return make_node(varchar_type(), nullable, std::move(args),
                         [numbers](const kernel_args& k) { return concat_kernel(k, numbers); }, text);
    }
    // Text arguments become VARCHAR, counts BIGINT.
    auto is_count = [&](size_t i) {
        return (name == "substr" || name == "substring") ? i >= 1
               : (name == "left" || name == "right" || name == "repeat") ? i == 1
               : (name == "lpad" || name == "rpad") ? i == 1
                                                    : false;
    };
    bool any_nullable = false;
    for (size_t i = 0; i < args.size(); ++i) {
        auto c = convert_if_needed(args[i], is_count(i) ? simple_type(type_kind::bigint) : varchar_type());
        if (!c) {
            return c;
        }
        args[i] = std::move(*c);
        any_nullable = any_nullable || args[i]->nullable();
    }
    const column_type vc = varchar_type();
    const column_type int_type{type_kind::int_};
    auto node = [&](column_type t, bool nullable, kernel k) -> sql_result<expr_ptr> {
        return make_node(t, nullable, std::move(args), std::move(k), text);
    };
    const std::string fn(name);
    if (name == "concat_ws") {
        bool nullable = args[0]->nullable();
        return node(vc, nullable, [](const kernel_args& k) {
            return text_rows(k, false, "concat_ws", [&](size_t i, std::string& out) {
                if (k.args[0].is_null(i)) {
                    return false;
                }
                std::string_view sep = vec::string_at(k.args[0], i);
                bool first = true;
                for (size_t j = 1; j < k.args.size(); ++j) {
                    if (k.args[j].is_null(i)) {
                        continue;
                    }
                    if (!first) {
                        out.append(sep);
                    }
                    out.append(vec::string_at(k.args[j], i));
                    first = false;
                }
                return true;
            });
        });
    }
    if (name == "length" || name == "octet_length") {
        return node(int_type, any_nullable, [](const kernel_args& k) {
            return int_rows(k, [&](size_t i) { return vec::string_at(k.args[0], i).size(); });
        });
    }
    if (name == "char_length" || name == "character_length") {
        return node(int_type, any_nullable, [](const kernel_args& k) {
            return int_rows(k, [&](size_t i) { return count_chars(vec::string_at(k.args[0], i)); });
        });
    }
    if (name == "upper" || name == "ucase" || name == "lower" || name == "lcase") {
        bool upper = name == "upper" || name == "ucase";
        return node(vc, any_nullable, [upper, fn](const kernel_args& k) {
            return text_rows(k, true, fn, [&](size_t i, std::string& out) {
                out.append(upper ? ascii_upper(vec::string_at(k.args[0], i)) : ascii_lower(vec::string_at(k.args[0], i)));
                return true;
            });
        });
    }
    if (name == "substr" || name == "substring") {
        return node(vc, any_nullable, [fn](const kernel_args& k) {
            return text_rows(k, true, fn, [&](size_t i, std::string& out) {
                std::optional<int64_t> len;
                if (k.args.size() == 3) {
                    len = int_at(k.args[2], i);
                }
                return substr(vec::string_at(k.args[0], i), int_at(k.args[1], i), len, out);
            });
        });
    }
    if (name == "left" || name == "right") {
        bool left = name == "left";
        return node(vc, any_nullable, [left, fn](const kernel_args& k) {
            return text_rows(k, true, fn, [&](size_t i, std::string& out) {
                std::string_view s = vec::string_at(k.args[0], i);
                int64_t n = int_at(k.args[1], i);
                if (n <= 0) {
                    return true;
                }
                if (left) {
                    out.append(s.substr(0, skip_chars(s, n)));
                } else {
                    int64_t chars = count_chars(s);
                    out.append(s.substr(skip_chars(s, std::max<int64_t>(0, chars - n))));
                }
                return true;
            });
        });
    }
    if (name == "lpad" || name == "rpad") {
        bool left = name == "lpad";
        return node(vc, true, [left, fn](const kernel_args& k) {
            return text_rows(k, true, fn, [&](size_t i, std::string& out) {
                return pad(vec::string_at(k.args[0], i), int_at(k.args[1], i), vec::string_at(k.args[2], i), left, out);
            });
        });
    }
    if (name == "repeat") {
        return node(vc, any_nullable, [](const kernel_args& k) -> sql_result<value_vector> {
            bool too_big = false;
            auto r = text_rows(k, true, "repeat", [&](size_t i, std::string& out) {
                std::string_view s = vec::string_at(k.args[0], i);
                int64_t n = int_at(k.args[1], i);
                if (n > 0 && s.size() * static_cast<uint64_t>(n) > max_string_value) {
                    too_big = true;
                    return true;
                }
                for (int64_t j = 0; j < n; ++j) {
                    out.append(s);
                }
                return true;
            });
            if (too_big) {
                return too_large("repeat");
            }
            return r;
        });
    }
    if (name == "trim" || name == "ltrim" || name == "rtrim") {
        bool left = name != "rtrim";
        bool right = name != "ltrim";
        return node(vc, any_nullable, [left, right, fn](const kernel_args& k) {
            return text_rows(k, true, fn, [&](size_t i, std::string& out) {
                out.append(trim_view(vec::string_at(k.args[0], i), left, right));
                return true;
            });
        });
    }
    // replace
    return node(vc, any_nullable, [](const kernel_args& k) {
        return text_rows(k, true, "replace", [&](size_t i, std::string& out) {
            std::string_view s = vec::string_at(k.args[0], i);
            std::string_view from = vec::string_at(k.args[1], i);
            std::string_view to = vec::string_at(k.args[2], i);
            if (from.empty()) {
                out.append(s);
                return true;
            }
            size_t at = 0;
            for (size_t hit = s.find(from); hit != std::string_view::npos; hit = s.find(from, at)) {
                out.append(s.substr(at, hit - at)).append(to);
                at = hit + from.size();
                if (out.size() > max_string_value) {
                    return true;
                }
            }
            out.append(s.substr(at));
            return true;
        });
    });
}

}  // namespace tv::sql
