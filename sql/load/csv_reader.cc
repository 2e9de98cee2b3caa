// SPDX-License-Identifier: Apache-2.0
// CSV splitting for Stream Load: rows found by the row delimiter outside enclosed fields, fields
// by the column separator, enclosures and escapes removed.
#include "sql/load/csv_reader.hh"

#include "io/ascii.hh"
#include "io/printable.hh"

#include <fmt/format.h>

#include <algorithm>

namespace tv::sql {

namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::variant<std::string, std::string> parse_separator(std::string_view text) {
    using out = std::variant<std::string, std::string>;
    if (text.empty()) {
        return out(std::in_place_index<1>, "empty separator");
    }
    std::string bytes;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\\' || i + 1 == text.size()) {
            bytes += text[i];
            continue;
        }
        char next = text[i + 1];
        if (next == 'x' || next == 'X') {
            int hi = i + 2 < text.size() ? hex_digit(text[i + 2]) : -1;
            int lo = i + 3 < text.size() ? hex_digit(text[i + 3]) : -1;
            if (hi < 0 || lo < 0) {
                return out(std::in_place_index<1>,
                           fmt::format("bad hex escape in separator '{}': use \\xHH", printable_value(text)));
            }
            bytes += static_cast<char>(hi * 16 + lo);
            i += 3;
        } else if (next == 't') {
            bytes += '\t';
            ++i;
        } else if (next == 'n') {
            bytes += '\n';
            ++i;
        } else if (next == 'r') {
            bytes += '\r';
            ++i;
        } else if (next == '\\') {
            bytes += '\\';
            ++i;
        } else {
            bytes += text[i];
        }
    }
    return out(std::in_place_index<0>, std::move(bytes));
}

csv_reader::csv_reader(csv_format format) : _format(std::move(format)) {}

void csv_reader::feed(std::string_view bytes) {
    // Drop what has been returned already so the buffer holds only the unparsed tail.
    if (_pos > 0 && _pos >= _buffer.size() / 2) {
        _buffer.erase(0, _pos);
        _scan -= _pos;
        _pos = 0;
    }
    _buffer.append(bytes);
}

void csv_reader::finish() {
    _finished = true;
}

std::optional<size_t> csv_reader::find_row_end() {
    // The scan resumes at _scan with the state it had there, and stops short of a byte whose
    // meaning depends on bytes not received yet (a delimiter cut in two, an enclosure that may
    // be doubled, an escape at the end): every byte is looked at once, whatever the piece size.
    const std::string_view buffer(_buffer);
    const std::string& delim = _format.row_delimiter;
    const std::string& sep = _format.column_separator;
    if (_format.enclose == 0) {
        size_t end = buffer.find(delim, _scan);
        if (end != std::string_view::npos) {
            return end;
        }
        // A delimiter may start in the last delim.size() - 1 bytes.
        _scan = std::max(_scan, buffer.size() >= delim.size() ? buffer.size() - delim.size() + 1 : size_t{0});
        return std::nullopt;
    }
    const bool more_may_come = !_finished;
    size_t i = _scan;
    for (; i < buffer.size(); ++i) {
        char c = buffer[i];
        if (_scan_in_enclosure) {
            bool last = i + 1 == buffer.size();
            if (more_may_come && last && ((_format.escape != 0 && c == _format.escape) || c == _format.enclose)) {
                break;  // what follows decides
            }
            if (_format.escape != 0 && c == _format.escape && !last) {
                ++i;
                continue;
            }
            if (c == _format.enclose) {
                if (!last && buffer[i + 1] == _format.enclose) {
                    ++i;  // a doubled enclosure is a literal one
                    continue;
                }
                _scan_in_enclosure = false;
            }
            continue;
        }
        if (_scan_field_start && c == _format.enclose) {
            _scan_in_enclosure = true;
            _scan_field_start = false;
            continue;
        }
        if (more_may_come && i + delim.size() > buffer.size()) {
            break;  // a delimiter may start here
        }
        if (buffer.compare(i, delim.size(), delim) == 0) {
            _scan = i;
            return i;
        }
        if (more_may_come && i + sep.size() > buffer.size()) {
            break;  // a separator may start here
        }
        _scan_field_start = buffer.compare(i, sep.size(), sep) == 0;
        if (_scan_field_start) {
            i += sep.size() - 1;
        }
    }
    _scan = i;
    return std::nullopt;
}

void csv_reader::split_fields(std::string_view row, std::vector<std::string_view>& fields) {
    fields.clear();
    const std::string& sep = _format.column_separator;
    if (_format.enclose == 0) {
        size_t start = 0;
        for (;;) {
            size_t end = row.find(sep, start);
            std::string_view field = row.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
            fields.push_back(_format.trim_space ? trim_blanks(field) : field);
            if (end == std::string_view::npos) {
                return;
            }
            start = end + sep.size();
        }
    }
    // Enclosed fields may need bytes removed: unescape into one buffer sized up front so the
    // views stay valid.
    _unescaped.clear();
    _unescaped.reserve(row.size());
    size_t i = 0;
    for (;;) {
        size_t j = i;
        while (_format.trim_space && j < row.size() && (row[j] == ' ' || row[j] == '\t')) {
            ++j;
        }
        if (j < row.size() && row[j] == _format.enclose) {
            size_t begin = _unescaped.size();
            ++j;
            while (j < row.size()) {
                char c = row[j];
                if (_format.escape != 0 && c == _format.escape && j + 1 < row.size()) {
                    _unescaped += row[j + 1];
                    j += 2;
                    continue;
                }
                if (c == _format.enclose) {
                    if (j + 1 < row.size() && row[j + 1] == _format.enclose) {
                        _unescaped += c;
                        j += 2;
                        continue;
                    }
                    ++j;
                    break;
                }
                _unescaped += c;
                ++j;
            }
            fields.emplace_back(_unescaped.data() + begin, _unescaped.size() - begin);
            size_t next = row.find(sep, j);
            if (next == std::string_view::npos) {
                return;
            }
            i = next + sep.size();
            continue;
        }
        size_t end = row.find(sep, i);
        std::string_view field = row.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i);
        fields.push_back(_format.trim_space ? trim_blanks(field) : field);
        if (end == std::string_view::npos) {
            return;
        }
        i = end + sep.size();
    }
}

bool csv_reader::next_row(std::vector<std::string_view>& fields) {
    for (;;) {
        if (_pos >= _buffer.size()) {
            return false;
        }
        auto end = find_row_end();
        size_t row_end = 0;
        size_t next = 0;
        if (end) {
            row_end = *end;
            next = row_end + _format.row_delimiter.size();
        } else if (_finished) {
            row_end = _buffer.size();
            next = row_end;
        } else {
            return false;
        }
        std::string_view row(_buffer.data() + _pos, row_end - _pos);
        // A CRLF file read with the default "\n" delimiter: the '\r' is not data.
        if (_format.row_delimiter == "\n" && !row.empty() && row.back() == '\r') {
            row.remove_suffix(1);
        }
        _consumed += next - _pos;
        _pos = next;
        _scan = next;
        _scan_in_enclosure = false;
        _scan_field_start = true;
        if (_rows_seen++ < _format.skip_header) {
            continue;
        }
        split_fields(row, fields);
        return true;
    }
}

}  // namespace tv::sql
