// SPDX-License-Identifier: Apache-2.0
// The XML scanner: finds elements by name, allowing attributes on the opening tag and whitespace
// between elements, which is all S3's flat response documents need.
#include "remote/s3_xml.hh"

#include <cstdint>
#include <cstdlib>

namespace tv::remote::xml {

namespace {

/// The position just past an opening tag named `tag` at or after `from` (attributes allowed),
/// and whether it was self-closing; npos when there is none.
size_t find_open(std::string_view doc, std::string_view tag, size_t from, bool& self_closing) {
    for (size_t at = doc.find('<', from); at != std::string_view::npos; at = doc.find('<', at + 1)) {
        if (doc.compare(at + 1, tag.size(), tag) != 0) {
            continue;
        }
        size_t after = at + 1 + tag.size();
        if (after >= doc.size()) {
            return std::string_view::npos;
        }
        char c = doc[after];
        if (c != '>' && c != '/' && c != ' ' && c != '\t' && c != '\r' && c != '\n') {
            continue;  // <KeyCount> is not <Key>
        }
        size_t close = doc.find('>', after);
        if (close == std::string_view::npos) {
            return std::string_view::npos;
        }
        self_closing = doc[close - 1] == '/';
        return close + 1;
    }
    return std::string_view::npos;
}

void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

/// Inner range of the element opened at `open_end` (nested elements of the same name are
/// not expected in S3 documents; the first closing tag ends it).
std::optional<std::string_view> inner(std::string_view doc, std::string_view tag, size_t open_end, size_t& next) {
    std::string closing = "</" + std::string(tag) + ">";
    size_t end = doc.find(closing, open_end);
    if (end == std::string_view::npos) {
        return std::nullopt;
    }
    next = end + closing.size();
    return doc.substr(open_end, end - open_end);
}

}  // namespace

std::string decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '&') {
            out += text[i];
            continue;
        }
        size_t semi = text.find(';', i);
        if (semi == std::string_view::npos || semi - i > 10) {
            out += text[i];
            continue;
        }
        std::string_view entity = text.substr(i + 1, semi - i - 1);
        if (entity == "amp") {
            out += '&';
        } else if (entity == "lt") {
            out += '<';
        } else if (entity == "gt") {
            out += '>';
        } else if (entity == "quot") {
            out += '"';
        } else if (entity == "apos") {
            out += '\'';
        } else if (!entity.empty() && entity[0] == '#') {
            std::string digits(entity.substr(1));
            bool hex = !digits.empty() && (digits[0] == 'x' || digits[0] == 'X');
            unsigned long cp = std::strtoul(hex ? digits.c_str() + 1 : digits.c_str(), nullptr, hex ? 16 : 10);
            append_utf8(out, static_cast<uint32_t>(cp));
        } else {
            out.append(text.substr(i, semi - i + 1));  // unknown: keep as it is
        }
        i = semi;
    }
    return out;
}

std::string escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&apos;"; break;
        // Carriage returns would be normalised away by the server's parser.
        case '\r': out += "&#13;"; break;
        default: out += c;
        }
    }
    return out;
}

std::optional<std::string> find(std::string_view doc, std::string_view tag) {
    bool self_closing = false;
    size_t open_end = find_open(doc, tag, 0, self_closing);
    if (open_end == std::string_view::npos) {
        return std::nullopt;
    }
    if (self_closing) {
        return std::string();
    }
    size_t next = 0;
    auto text = inner(doc, tag, open_end, next);
    if (!text) {
        return std::nullopt;
    }
    return decode(*text);
}

std::vector<std::string_view> find_all(std::string_view doc, std::string_view tag) {
    std::vector<std::string_view> found;
    size_t from = 0;
    for (;;) {
        bool self_closing = false;
        size_t open_end = find_open(doc, tag, from, self_closing);
        if (open_end == std::string_view::npos) {
            break;
        }
        if (self_closing) {
            found.emplace_back();
            from = open_end;
            continue;
        }
        size_t next = 0;
        auto text = inner(doc, tag, open_end, next);
        if (!text) {
            break;
        }
        found.push_back(*text);
        from = next;
    }
    return found;
}

std::string printable_prefix(std::string_view text, size_t limit) {
    std::string out(text.substr(0, limit));
    for (char& ch : out) {
        auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == 0x7f) {
            ch = '?';
        }
    }
    if (text.size() > limit) {
        out += "...";
    }
    return out;
}

}  // namespace tv::remote::xml
