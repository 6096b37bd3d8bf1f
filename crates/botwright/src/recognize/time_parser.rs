//! The grammar of English time expressions: tokens of the original text and the phrases they
//! form, before they are resolved against the current time (see [`super::time`]).

use chrono::{FixedOffset, NaiveDate, Weekday};

use super::language::Language;
use super::number_words::{Lexeme, lookup};
use super::time_token::{Kind, Token, token_at};
use super::time_words::{MONTHS, PERIODS, Period, UNITS, Unit, WEEKDAYS, find};

/// How a weekday is meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WeekdayMode {
    /// "monday", "on monday", "this monday": the coming one, today if the time is still ahead.
    Coming,
    /// "next monday": the coming one, never today.
    Next,
    /// "last monday": the past one, never today.
    Last,
}

/// The date a phrase names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateSpec {
    /// A full date: ISO or with a month name and a year.
    Day(NaiveDate),
    /// A month name and a day, the year left to the next occurrence.
    MonthDay { month: u32, day: u32 },
    /// Today (0), tomorrow (1), yesterday (-1).
    DaysFromToday(i64),
    /// "in 3 days at 5pm": the date moved by an amount of calendar units.
    FromToday { amount: i64, unit: Unit },
    /// A day of the week.
    Weekday { weekday: Weekday, mode: WeekdayMode },
}

/// A date and the part of the day said with it ("tomorrow morning", "tonight").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DatePart {
    pub(crate) spec: DateSpec,
    pub(crate) period: Option<Period>,
}

/// "am" or "pm".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Meridiem {
    Am,
    Pm,
}

/// A time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeSpec {
    /// "18:00", "6pm", "6:30 pm", "at 9" (validated: hour 0-23, or 1-12 with am/pm).
    Clock {
        hour: u32,
        minute: u32,
        second: u32,
        meridiem: Option<Meridiem>,
    },
    Noon,
    /// The midnight that ends the day named (or today).
    Midnight,
}

/// What a phrase means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Meaning {
    /// "now".
    Now,
    /// "in 2 hours", "3 days ago": the current time moved by an amount.
    FromNow { amount: i64, unit: Unit },
    /// A date, a time, or both; `offset` when an ISO time gave one.
    At { date: Option<DatePart>, time: Option<TimeSpec>, offset: Option<FixedOffset> },
}

/// A time expression found in a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Phrase {
    pub(crate) meaning: Meaning,
    /// Byte offsets of the phrase in the text.
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// The time phrases of a text, from left to right, each starting at a token.
#[derive(Debug, Clone)]
pub(crate) struct Phrases<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Phrases<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Phrases { text, pos: 0 }
    }
}

impl Iterator for Phrases<'_> {
    type Item = Phrase;

    fn next(&mut self) -> Option<Phrase> {
        loop {
            let token = token_at(self.text, self.pos)?;
            let grammar = Grammar { text: self.text };
            // A phrase starts at a word boundary: not at "18" in "T18" or "pm" in "6pm".
            let glued = !token.spaced && !matches!(token.kind, Kind::Symbol(_)) && {
                let before = self.text[..token.start].chars().next_back();
                before.is_some_and(|c| c.is_ascii_alphanumeric())
            };
            if glued {
                self.pos = token.end;
                continue;
            }
            if let Some((meaning, end)) = grammar.phrase(token.start) {
                self.pos = end;
                return Some(Phrase { meaning, start: token.start, end });
            }
            self.pos = token.end;
        }
    }
}

/// The grammar, applied at a byte offset; each rule returns what it read and where it ended.
#[derive(Debug, Clone, Copy)]
struct Grammar<'a> {
    text: &'a str,
}

impl<'a> Grammar<'a> {
    fn token(&self, pos: usize) -> Option<Token<'a>> {
        token_at(self.text, pos)
    }

    /// A word from `words`, ignoring ASCII case.
    fn word(&self, pos: usize, words: &[&str]) -> Option<usize> {
        let token = self.token(pos)?;
        match token.kind {
            Kind::Word(word) if words.iter().any(|w| w.eq_ignore_ascii_case(word)) => Some(token.end),
            _ => None,
        }
    }

    /// Any word, looked up in `table`.
    fn lookup<T: Copy>(&self, pos: usize, table: &[(&str, T)]) -> Option<(T, usize)> {
        let token = self.token(pos)?;
        match token.kind {
            Kind::Word(word) => find(table, word).map(|value| (value, token.end)),
            _ => None,
        }
    }

    /// The symbol `c`, right after `pos` when `glued`.
    fn symbol(&self, pos: usize, c: char, glued: bool) -> Option<usize> {
        let token = self.token(pos)?;
        (token.kind == Kind::Symbol(c) && !(glued && token.spaced)).then_some(token.end)
    }

    /// A number of at most `max_digits` digits, right after `pos` when `glued`.
    fn number(&self, pos: usize, max_digits: usize, glued: bool) -> Option<(u32, usize, usize)> {
        let token = self.token(pos)?;
        match token.kind {
            Kind::Number { value, digits } if digits <= max_digits && !(glued && token.spaced) => {
                Some((value, digits, token.end))
            }
            _ => None,
        }
    }

    /// One time expression starting at `pos`.
    fn phrase(&self, pos: usize) -> Option<(Meaning, usize)> {
        if let Some(end) = self.now(pos) {
            return Some((Meaning::Now, end));
        }
        if let Some(found) = self.relative(pos) {
            return Some(found);
        }
        if let Some(found) = self.iso(pos) {
            return Some(found);
        }
        if let Some((date, end)) = self.date(pos) {
            let (time, end) = self.time_after(end).map_or((None, end), |(time, end)| (Some(time), end));
            return Some((Meaning::At { date: Some(date), time, offset: None }, end));
        }
        let (time, end) = self.time(pos)?;
        let after = self.symbol(end, ',', false).unwrap_or(end);
        let (date, end) = self.date(after).map_or((None, end), |(date, end)| (Some(date), end));
        Some((Meaning::At { date, time: Some(time), offset: None }, end))
    }

    /// "now", "right now".
    fn now(&self, pos: usize) -> Option<usize> {
        let pos = self.word(pos, &["right"]).unwrap_or(pos);
        self.word(pos, &["now"])
    }

    /// "in 2 hours", "in an hour", "in half an hour", "in 1h30", "3 days from now",
    /// "2 weeks ago", "an hour later", "in 3 days at 5pm".
    fn relative(&self, pos: usize) -> Option<(Meaning, usize)> {
        let (amount, unit, end) = if let Some(after_in) = self.word(pos, &["in"]) {
            self.duration(after_in)?
        } else {
            let (amount, unit, after) = self.duration(pos)?;
            if let Some(end) = self.word(after, &["ago"]) {
                (-amount, unit, end)
            } else if let Some(end) = self.word(after, &["later"]) {
                (amount, unit, end)
            } else {
                let from = self.word(after, &["from"])?;
                (amount, unit, self.word(from, &["now"])?)
            }
        };
        if unit.is_calendar()
            && let Some((time, end)) = self.time_after(end)
        {
            let date = DatePart { spec: DateSpec::FromToday { amount, unit }, period: None };
            return Some((Meaning::At { date: Some(date), time: Some(time), offset: None }, end));
        }
        Some((Meaning::FromNow { amount, unit }, end))
    }

    /// An amount of a unit: "2 hours", "an hour", "half an hour"; clock units combine into
    /// seconds: "1h30", "2 hours and 30 minutes", "1 hour 15 minutes", "an hour and a half".
    fn duration(&self, pos: usize) -> Option<(i64, Unit, usize)> {
        if let Some(end) = self.half_hour(pos) {
            return Some((30, Unit::Minutes, end));
        }
        let (amount, after_amount) = self.amount(pos)?;
        let (unit, end) = self.lookup(after_amount, UNITS)?;
        let Some(unit_seconds) = unit.seconds() else { return Some((amount, unit, end)) };
        let mut seconds = amount.checked_mul(unit_seconds)?;
        let mut smallest = unit_seconds;
        let mut end_of_all = end;
        if unit == Unit::Hours
            && let Some((minutes, _, after)) = self.number(end, 2, true)
            && minutes < 60
        {
            let after = self.lookup(after, UNITS).filter(|&(unit, _)| unit == Unit::Minutes).map_or(after, |(_, e)| e);
            return Some((seconds.checked_add(i64::from(minutes) * 60)?, Unit::Seconds, after));
        }
        loop {
            let next = self.word(end_of_all, &["and"]).unwrap_or(end_of_all);
            if let Some(after_half) = self.word(next, &["a"]).and_then(|after_a| self.word(after_a, &["half"])) {
                seconds = seconds.checked_add(smallest / 2)?;
                end_of_all = after_half;
                break;
            }
            let Some((more, after_more)) = self.amount(next) else { break };
            let Some((next_unit, after_unit)) = self.lookup(after_more, UNITS) else { break };
            let Some(next_seconds) = next_unit.seconds().filter(|&s| s < smallest) else { break };
            seconds = seconds.checked_add(more.checked_mul(next_seconds)?)?;
            smallest = next_seconds;
            end_of_all = after_unit;
        }
        if end_of_all == end { Some((amount, unit, end)) } else { Some((seconds, Unit::Seconds, end_of_all)) }
    }

    /// "half an hour".
    fn half_hour(&self, pos: usize) -> Option<usize> {
        let pos = self.word(pos, &["half"])?;
        let pos = self.word(pos, &["an", "a"])?;
        self.word(pos, &["hour"])
    }

    /// A count: digits, "a"/"an", or an English number word below one hundred.
    fn amount(&self, pos: usize) -> Option<(i64, usize)> {
        let token = self.token(pos)?;
        match token.kind {
            Kind::Number { value, digits } if digits <= 9 => Some((i64::from(value), token.end)),
            Kind::Word(word) if word.eq_ignore_ascii_case("a") || word.eq_ignore_ascii_case("an") => {
                Some((1, token.end))
            }
            Kind::Word(word) if word.len() <= 9 => {
                let mut lower = [0u8; 9];
                lower[..word.len()].copy_from_slice(word.as_bytes());
                lower.make_ascii_lowercase();
                let lower = std::str::from_utf8(&lower[..word.len()]).ok()?;
                match lookup(lower, Language::English)?.lexeme {
                    Lexeme::Small(value) if value > 0 => Some((i64::from(value), token.end)),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// A time following a date: `[","] time`.
    fn time_after(&self, pos: usize) -> Option<(TimeSpec, usize)> {
        let pos = self.symbol(pos, ',', false).unwrap_or(pos);
        self.time(pos)
    }

    /// "2026-12-24", optionally followed by a time ("T18:00", " 18:00", " at 6pm") and, after
    /// a clock time, an offset ("Z", "+02:00").
    fn iso(&self, pos: usize) -> Option<(Meaning, usize)> {
        let (year, _, end) = self.number(pos, 4, false).filter(|&(_, digits, _)| digits == 4)?;
        let end = self.symbol(end, '-', true)?;
        let (month, _, end) = self.number(end, 2, true)?;
        let end = self.symbol(end, '-', true)?;
        let (day, _, end) = self.number(end, 2, true)?;
        let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
        let date = Some(DatePart { spec: DateSpec::Day(date), period: None });
        let glued_t = self
            .token(end)
            .filter(|token| !token.spaced && matches!(token.kind, Kind::Word(word) if word.eq_ignore_ascii_case("t")));
        let found = if let Some(t) = glued_t { Some(self.clock(t.end, false)?) } else { self.time_after(end) };
        let Some((time, end)) = found else {
            return Some((Meaning::At { date, time: None, offset: None }, end));
        };
        let (offset, end) = match time {
            TimeSpec::Clock { .. } => self.offset(end).map_or((None, end), |(offset, end)| (Some(offset), end)),
            _ => (None, end),
        };
        Some((Meaning::At { date, time: Some(time), offset }, end))
    }

    /// "Z", "+02:00", "-0530", "+02", right after a time.
    fn offset(&self, pos: usize) -> Option<(FixedOffset, usize)> {
        let token = self.token(pos).filter(|token| !token.spaced)?;
        let sign = match token.kind {
            Kind::Word(word) if word.eq_ignore_ascii_case("z") => return Some((FixedOffset::east_opt(0)?, token.end)),
            Kind::Symbol('+') => 1,
            Kind::Symbol('-' | '\u{2212}') => -1,
            _ => return None,
        };
        let (value, digits, end) = self.number(token.end, 4, true)?;
        let (hours, minutes, end) = match digits {
            2 => match self.symbol(end, ':', true).and_then(|colon| self.number(colon, 2, true)) {
                Some((minutes, 2, end)) => (value, minutes, end),
                _ => (value, 0, end),
            },
            4 => (value / 100, value % 100, end),
            _ => return None,
        };
        if hours > 23 || minutes > 59 {
            return None;
        }
        let seconds = i32::try_from(hours * 3600 + minutes * 60).ok()?;
        Some((FixedOffset::east_opt(sign * seconds)?, end))
    }

    /// A date with an optional part of the day: "today", "tomorrow morning", "tonight",
    /// "this afternoon", "on monday", "next friday evening", "december 24", "24th of dec 2026".
    fn date(&self, pos: usize) -> Option<(DatePart, usize)> {
        let pos = self.word(pos, &["on"]).unwrap_or(pos);
        let token = self.token(pos)?;
        let (spec, period, end) = match token.kind {
            Kind::Word(word) => {
                let lower = |w: &str| word.eq_ignore_ascii_case(w);
                if lower("today") {
                    (DateSpec::DaysFromToday(0), None, token.end)
                } else if lower("tonight") {
                    (DateSpec::DaysFromToday(0), Some(Period::Night), token.end)
                } else if lower("tomorrow") || lower("tmrw") || lower("tomorow") {
                    (DateSpec::DaysFromToday(1), None, token.end)
                } else if lower("yesterday") {
                    (DateSpec::DaysFromToday(-1), None, token.end)
                } else if lower("this") {
                    if let Some((period, end)) = self.lookup(token.end, PERIODS) {
                        (DateSpec::DaysFromToday(0), Some(period), end)
                    } else {
                        let (weekday, end) = self.lookup(token.end, WEEKDAYS)?;
                        (DateSpec::Weekday { weekday, mode: WeekdayMode::Coming }, None, end)
                    }
                } else if lower("next") || lower("last") {
                    let calendar_unit = self.lookup(token.end, UNITS).filter(|(unit, _)| unit.is_calendar());
                    if let Some((unit, end)) = calendar_unit {
                        let amount = if lower("next") { 1 } else { -1 };
                        (DateSpec::FromToday { amount, unit }, None, end)
                    } else {
                        let mode = if lower("next") { WeekdayMode::Next } else { WeekdayMode::Last };
                        let (weekday, end) = self.lookup(token.end, WEEKDAYS)?;
                        (DateSpec::Weekday { weekday, mode }, None, end)
                    }
                } else if lower("day") {
                    let (days, end) = if let Some(after) = self.word(token.end, &["after"]) {
                        (2, self.word(after, &["tomorrow"])?)
                    } else {
                        (-2, self.word(self.word(token.end, &["before"])?, &["yesterday"])?)
                    };
                    (DateSpec::DaysFromToday(days), None, end)
                } else if let Some(weekday) = find(WEEKDAYS, word) {
                    (DateSpec::Weekday { weekday, mode: WeekdayMode::Coming }, None, token.end)
                } else {
                    let (spec, end) = self.month_first(pos)?;
                    (spec, None, end)
                }
            }
            Kind::Number { .. } => {
                let (spec, end) = self.day_first(pos)?;
                (spec, None, end)
            }
            Kind::Symbol(_) => return None,
        };
        let (period, end) = match period {
            Some(period) => (Some(period), end),
            None => self.lookup(end, PERIODS).map_or((None, end), |(period, end)| (Some(period), end)),
        };
        Some((DatePart { spec, period }, end))
    }

    /// "december 24", "dec 24th, 2026".
    fn month_first(&self, pos: usize) -> Option<(DateSpec, usize)> {
        let (month, end) = self.lookup(pos, MONTHS)?;
        let end = self.symbol(end, '.', true).unwrap_or(end);
        let (day, end) = self.day(end)?;
        Some(self.with_year(month, day, end))
    }

    /// "24 december", "24th of dec 2026".
    fn day_first(&self, pos: usize) -> Option<(DateSpec, usize)> {
        let (day, end) = self.day(pos)?;
        let end = self.word(end, &["of"]).unwrap_or(end);
        let (month, end) = self.lookup(end, MONTHS)?;
        let end = self.symbol(end, '.', true).unwrap_or(end);
        Some(self.with_year(month, day, end))
    }

    /// A day of the month with an optional ordinal ending ("24", "24th").
    fn day(&self, pos: usize) -> Option<(u32, usize)> {
        let (day, _, end) = self.number(pos, 2, false)?;
        let suffix = self.token(end).filter(|token| !token.spaced).and_then(|token| match token.kind {
            Kind::Word(word) if ["st", "nd", "rd", "th"].iter().any(|s| s.eq_ignore_ascii_case(word)) => {
                Some(token.end)
            }
            _ => None,
        });
        (1..=31).contains(&day).then_some((day, suffix.unwrap_or(end)))
    }

    /// The date with an optional year after it (`[","] 2026`).
    fn with_year(&self, month: u32, day: u32, end: usize) -> (DateSpec, usize) {
        let after = self.symbol(end, ',', false).unwrap_or(end);
        let full = self
            .number(after, 4, false)
            .filter(|&(_, digits, _)| digits == 4)
            .and_then(|(year, _, end)| Some((NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?, end)));
        match full {
            Some((date, end)) => (DateSpec::Day(date), end),
            None => (DateSpec::MonthDay { month, day }, end),
        }
    }

    /// A time of day: `["at"|"@"]` then "noon", "midday", "midnight" or a clock time; a bare
    /// hour ("at 9") only after "at".
    fn time(&self, pos: usize) -> Option<(TimeSpec, usize)> {
        let at = self.word(pos, &["at"]).or_else(|| self.symbol(pos, '@', false));
        let pos = at.unwrap_or(pos);
        if let Some(end) = self.word(pos, &["noon", "midday"]) {
            return Some((TimeSpec::Noon, end));
        }
        if let Some(end) = self.word(pos, &["midnight"]) {
            return Some((TimeSpec::Midnight, end));
        }
        self.clock(pos, at.is_some())
    }

    /// "18:00", "18:00:30", "6:30 pm", "6.30pm", "6pm", "6 a.m.", "5 o'clock", and with
    /// `bare_hour` "9".
    fn clock(&self, pos: usize, bare_hour: bool) -> Option<(TimeSpec, usize)> {
        let (hour, _, end) = self.number(pos, 2, false)?;
        let colon_minutes = self.symbol(end, ':', true).and_then(|colon| self.number(colon, 2, true));
        if let Some((minute, 2, end)) = colon_minutes {
            let (second, end) = match self.symbol(end, ':', true).and_then(|colon| self.number(colon, 2, true)) {
                Some((second, 2, end)) => (second, end),
                _ => (0, end),
            };
            let (meridiem, end) = self.meridiem(end).map_or((None, end), |(m, end)| (Some(m), end));
            return valid(hour, minute, second, meridiem).map(|time| (time, end));
        }
        let dot_minutes = self.symbol(end, '.', true).and_then(|dot| self.number(dot, 2, true));
        if let Some((minute, 2, after_minutes)) = dot_minutes
            && let Some((meridiem, end)) = self.meridiem(after_minutes)
        {
            return valid(hour, minute, 0, Some(meridiem)).map(|time| (time, end));
        }
        if let Some((meridiem, end)) = self.meridiem(end) {
            return valid(hour, 0, 0, Some(meridiem)).map(|time| (time, end));
        }
        if let Some(end) = self.oclock(end) {
            return valid(hour, 0, 0, None).map(|time| (time, end));
        }
        if bare_hour {
            return valid(hour, 0, 0, None).map(|time| (time, end));
        }
        None
    }

    /// "o'clock" / "oclock".
    fn oclock(&self, pos: usize) -> Option<usize> {
        if let Some(end) = self.word(pos, &["oclock"]) {
            return Some(end);
        }
        let pos = self.word(pos, &["o"])?;
        let pos = self.symbol(pos, '\'', true).or_else(|| self.symbol(pos, '\u{2019}', true))?;
        self.word(pos, &["clock"])
    }

    /// "am", "pm", "a.m.", "p.m".
    fn meridiem(&self, pos: usize) -> Option<(Meridiem, usize)> {
        let token = self.token(pos)?;
        let Kind::Word(word) = token.kind else { return None };
        let meridiem = if word.eq_ignore_ascii_case("am") || word.eq_ignore_ascii_case("a") {
            Meridiem::Am
        } else if word.eq_ignore_ascii_case("pm") || word.eq_ignore_ascii_case("p") {
            Meridiem::Pm
        } else {
            return None;
        };
        if word.len() == 2 {
            return Some((meridiem, token.end));
        }
        let end = self.symbol(token.end, '.', true)?;
        let end = self.word(end, &["m"]).filter(|_| self.token(end).is_some_and(|t| !t.spaced))?;
        Some((meridiem, self.symbol(end, '.', true).unwrap_or(end)))
    }
}

/// A clock time if its fields are in range.
fn valid(hour: u32, minute: u32, second: u32, meridiem: Option<Meridiem>) -> Option<TimeSpec> {
    let hour_ok = match meridiem {
        Some(_) => (1..=12).contains(&hour),
        None => hour <= 23,
    };
    (hour_ok && minute <= 59 && second <= 59).then_some(TimeSpec::Clock { hour, minute, second, meridiem })
}
