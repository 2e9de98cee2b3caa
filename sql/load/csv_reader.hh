// SPDX-License-Identifier: Apache-2.0
// Splits CSV text arriving in pieces (a Stream Load body) into rows of fields, with StarRocks'
// load options: column_separator, row_delimiter, enclose, escape, skip_header, trim_space.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tv::sql {

struct csv_format {
    std::string column_separator = "\t";  ///< StarRocks' default
    std::string row_delimiter = "\n";
    char enclose = 0;  ///< 0: none; else fields may be wrapped in it (and contain separators)
    char escape = 0;   ///< 0: none; else it makes the next byte literal inside an enclosed field
    uint64_t skip_header = 0;
    bool trim_space = false;
};

/// A separator as StarRocks accepts it in a header: "\x01" (hex byte), "\t", "\n", "\\", or the
/// bytes as written. The error names the problem ("empty separator", "bad hex escape").
std::variant<std::string, std::string> parse_separator(std::string_view text);

/// Feed bytes with feed(), take rows with next_row(); finish() says no more bytes will come, so a
/// last row without a delimiter counts. Memory: the unparsed tail of the input only. Time:
/// linear in the input however the rows are cut into pieces, since the search for a row's end
/// resumes where the previous piece left it (a 64 MB field is scanned once, not once a piece).
class csv_reader {
public:
    explicit csv_reader(csv_format format);

    void feed(std::string_view bytes);
    void finish();

    /// Fills `fields` with the next complete row's fields (views valid until the next call to
    /// next_row or feed); false when no complete row is buffered. Header rows are skipped; an
    /// empty line is a row with one empty field, as StarRocks reads it.
    bool next_row(std::vector<std::string_view>& fields);

    /// Bytes of rows returned so far, delimiters included.
    uint64_t bytes_consumed() const { return _consumed; }

private:
    /// End of the row starting at _pos (the delimiter's offset), honouring enclosed fields;
    /// nullopt when it is not buffered yet, with the scan's state kept for the next call.
    std::optional<size_t> find_row_end();
    void split_fields(std::string_view row, std::vector<std::string_view>& fields);

    csv_format _format;
    std::string _buffer;
    size_t _pos = 0;
    /// Where find_row_end() resumes in _buffer (>= _pos), and the state it had reached there.
    size_t _scan = 0;
    bool _scan_in_enclosure = false;
    bool _scan_field_start = true;
    bool _finished = false;
    uint64_t _rows_seen = 0;
    uint64_t _consumed = 0;
    std::string _unescaped;  ///< backing store for fields that needed unescaping
};

}  // namespace tv::sql
