//! English words of the time grammar: months, weekdays, units and parts of the day.

use chrono::Weekday;

/// A unit of a relative time ("in 3 days").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    Seconds,
    Minutes,
    Hours,
    Days,
    Weeks,
    Months,
    Years,
}

impl Unit {
    /// Whether the unit moves the calendar date rather than the clock ("in 3 days at 5pm").
    pub(super) fn is_calendar(self) -> bool {
        self.seconds().is_none()
    }

    /// The length of a clock unit in seconds; `None` for calendar units.
    pub(super) fn seconds(self) -> Option<i64> {
        match self {
            Unit::Seconds => Some(1),
            Unit::Minutes => Some(60),
            Unit::Hours => Some(3600),
            Unit::Days | Unit::Weeks | Unit::Months | Unit::Years => None,
        }
    }
}

/// A part of the day, which sets a default time and makes bare hours afternoon ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Period {
    Morning,
    Afternoon,
    Evening,
    Night,
}

/// Month names and abbreviations.
pub(crate) const MONTHS: &[(&str, u32)] = &[
    ("jan", 1),
    ("january", 1),
    ("feb", 2),
    ("february", 2),
    ("mar", 3),
    ("march", 3),
    ("apr", 4),
    ("april", 4),
    ("may", 5),
    ("jun", 6),
    ("june", 6),
    ("jul", 7),
    ("july", 7),
    ("aug", 8),
    ("august", 8),
    ("sep", 9),
    ("sept", 9),
    ("september", 9),
    ("oct", 10),
    ("october", 10),
    ("nov", 11),
    ("november", 11),
    ("dec", 12),
    ("december", 12),
];

/// Weekday names and abbreviations.
pub(crate) const WEEKDAYS: &[(&str, Weekday)] = &[
    ("monday", Weekday::Mon),
    ("mon", Weekday::Mon),
    ("tuesday", Weekday::Tue),
    ("tue", Weekday::Tue),
    ("tues", Weekday::Tue),
    ("wednesday", Weekday::Wed),
    ("wed", Weekday::Wed),
    ("thursday", Weekday::Thu),
    ("thu", Weekday::Thu),
    ("thur", Weekday::Thu),
    ("thurs", Weekday::Thu),
    ("friday", Weekday::Fri),
    ("fri", Weekday::Fri),
    ("saturday", Weekday::Sat),
    ("sat", Weekday::Sat),
    ("sunday", Weekday::Sun),
    ("sun", Weekday::Sun),
];

/// Units of relative times.
pub(crate) const UNITS: &[(&str, Unit)] = &[
    ("s", Unit::Seconds),
    ("sec", Unit::Seconds),
    ("secs", Unit::Seconds),
    ("second", Unit::Seconds),
    ("seconds", Unit::Seconds),
    ("m", Unit::Minutes),
    ("min", Unit::Minutes),
    ("mins", Unit::Minutes),
    ("minute", Unit::Minutes),
    ("minutes", Unit::Minutes),
    ("h", Unit::Hours),
    ("hr", Unit::Hours),
    ("hrs", Unit::Hours),
    ("hour", Unit::Hours),
    ("hours", Unit::Hours),
    ("d", Unit::Days),
    ("day", Unit::Days),
    ("days", Unit::Days),
    ("w", Unit::Weeks),
    ("wk", Unit::Weeks),
    ("wks", Unit::Weeks),
    ("week", Unit::Weeks),
    ("weeks", Unit::Weeks),
    ("mo", Unit::Months),
    ("month", Unit::Months),
    ("months", Unit::Months),
    ("y", Unit::Years),
    ("yr", Unit::Years),
    ("yrs", Unit::Years),
    ("year", Unit::Years),
    ("years", Unit::Years),
];

/// Parts of the day.
pub(crate) const PERIODS: &[(&str, Period)] = &[
    ("morning", Period::Morning),
    ("afternoon", Period::Afternoon),
    ("evening", Period::Evening),
    ("night", Period::Night),
];

/// The value of `word` in `table`, ignoring ASCII case.
pub(crate) fn find<T: Copy>(table: &[(&str, T)], word: &str) -> Option<T> {
    table.iter().find(|(text, _)| text.eq_ignore_ascii_case(word)).map(|&(_, value)| value)
}
