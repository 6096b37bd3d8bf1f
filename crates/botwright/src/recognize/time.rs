//! Dates and times in a reply, in English: ISO forms, clock times and common relative phrases.
//!
//! The grammar is in [`super::time_parser`]; this file resolves a phrase against the current
//! time. (Existing crates were considered: `interim`/`chrono-english` read a whole string only,
//! with no span, and do not read "in 2 hours", "at 5pm", "noon" or "tonight".)

use std::ops::Range;

use chrono::{DateTime, Datelike, Days, FixedOffset, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone};
use serde::{Deserialize, Serialize};

use super::time_parser::{DateSpec, Meaning, Meridiem, Phrases, TimeSpec, WeekdayMode};
use super::time_words::{Period, Unit};

/// A date and time found in a reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeMatch {
    /// The moment meant, in the offset of `now` (or the offset the reply gave, "…+02:00").
    pub value: DateTime<FixedOffset>,
    /// The words that said it, as typed ("tomorrow at 5pm").
    pub text: String,
    /// Where those words are in the reply, in bytes.
    pub span: Range<usize>,
    /// Whether the reply fixed the time of day; `false` for a date alone, which resolves to
    /// noon of that date.
    pub has_time: bool,
}

/// Finds the first date or time in a reply and resolves it against `now`.
///
/// Accepts, in any case, inside a sentence ("remind me tomorrow at 5pm to call"):
/// - ISO dates and times: `2026-12-24`, `2026-12-24T18:00`, `2026-12-24 18:00:30`,
///   `2026-12-24T18:00Z`, `2026-12-24T18:00+02:00`;
/// - clock times: `18:00`, `6pm`, `6:30 pm`, `6.30pm`, `6 a.m.`, `at 9` (a bare hour needs
///   "at" and is a 24-hour one, except after "tonight", "afternoon", "evening" or "night",
///   where 1-11 are afternoon hours), `9 o'clock`, `noon`, `midday`, `midnight`;
/// - dates: `today`, `tomorrow`, `yesterday`, `day after tomorrow`, `day before yesterday`,
///   `next week` / `next month` / `last year` (today moved by one), `tonight` (20:00), `this morning` (09:00),
///   `tomorrow afternoon` (15:00), `friday evening` (19:00), `monday night` (20:00),
///   `monday`, `on monday`, `this monday`, `next monday`, `last monday`, `december 24`,
///   `24th of dec`, `dec 24, 2026`; followed or preceded by a time: `tomorrow at 5pm`,
///   `monday at 9`, `5pm on friday`, `at noon tomorrow`;
/// - relative: `now`, `in 2 hours`, `in 30 minutes`, `in 3 days`, `in an hour`,
///   `in half an hour`, `in two weeks`, `in 1h30`, `in 2 hours and 15 minutes`,
///   `in an hour and a half`, `2 days ago`, `3 hours from now`, `in 3 days at 9am`.
///
/// Not read: slash dates (`12/24`, whose order depends on the country), days of the month
/// alone ("on the 5th"), and other languages.
///
/// Resolution: a date alone is noon of that date (`has_time` false); a time alone is today
/// at that time, even if already past (the prompt decides what to accept); midnight is the
/// one that ends the day named, so "midnight" is the coming one. A weekday is the coming one:
/// today only when a time is given that is still ahead; "next monday" is never today, and
/// "last monday" is the past one. A month and day without a year is the next such date
/// (today included). Relative days, weeks, months and years keep the time of day. The result
/// is in the offset of `now`, unless an ISO time gave its own.
///
/// Returns `None` when the reply holds no time it can read, or only invalid ones
/// ("2026-02-30", "25:00").
///
/// ```
/// use botwright::recognize::parse_time;
/// use chrono::DateTime;
///
/// let now = DateTime::parse_from_rfc3339("2026-11-26T10:00:00+01:00").unwrap();
/// let found = parse_time("remind me tomorrow at 5pm please", now).unwrap();
/// assert_eq!(found.value.to_rfc3339(), "2026-11-27T17:00:00+01:00");
/// assert_eq!(found.text, "tomorrow at 5pm");
///
/// let later = parse_time("in 2 hours", now).unwrap();
/// assert_eq!(later.value.to_rfc3339(), "2026-11-26T12:00:00+01:00");
///
/// let christmas = parse_time("2026-12-24", now).unwrap();
/// assert_eq!(christmas.value.to_rfc3339(), "2026-12-24T12:00:00+01:00");
/// assert!(!christmas.has_time);
///
/// assert_eq!(parse_time("no idea", now), None);
/// ```
pub fn parse_time(text: &str, now: DateTime<FixedOffset>) -> Option<TimeMatch> {
    Phrases::new(text).find_map(|phrase| {
        let (value, has_time) = resolve(phrase.meaning, now)?;
        let span = phrase.start..phrase.end;
        Some(TimeMatch { value, text: text[span.clone()].to_string(), span, has_time })
    })
}

/// The default time of a part of the day.
fn period_time(period: Period) -> NaiveTime {
    let hour = match period {
        Period::Morning => 9,
        Period::Afternoon => 15,
        Period::Evening => 19,
        Period::Night => 20,
    };
    NaiveTime::from_hms_opt(hour, 0, 0).unwrap_or(NaiveTime::MIN)
}

/// The time of day, and how many days after the date it falls (1 for midnight).
fn time_of_day(time: Option<TimeSpec>, period: Option<Period>) -> Option<(NaiveTime, u64, bool)> {
    match time {
        Some(TimeSpec::Clock { hour, minute, second, meridiem }) => {
            let hour = match meridiem {
                Some(Meridiem::Am) => hour % 12,
                Some(Meridiem::Pm) => hour % 12 + 12,
                None if matches!(period, Some(Period::Afternoon | Period::Evening | Period::Night))
                    && (1..12).contains(&hour) =>
                {
                    hour + 12
                }
                None => hour,
            };
            Some((NaiveTime::from_hms_opt(hour, minute, second)?, 0, true))
        }
        Some(TimeSpec::Noon) => Some((NaiveTime::from_hms_opt(12, 0, 0)?, 0, true)),
        Some(TimeSpec::Midnight) => Some((NaiveTime::MIN, 1, true)),
        None => match period {
            Some(period) => Some((period_time(period), 0, true)),
            None => Some((NaiveTime::from_hms_opt(12, 0, 0)?, 0, false)),
        },
    }
}

/// Moves a local date and time by an amount of units.
fn shift(at: NaiveDateTime, amount: i64, unit: Unit) -> Option<NaiveDateTime> {
    let delta = match unit {
        Unit::Seconds => TimeDelta::try_seconds(amount)?,
        Unit::Minutes => TimeDelta::try_minutes(amount)?,
        Unit::Hours => TimeDelta::try_hours(amount)?,
        Unit::Days => TimeDelta::try_days(amount)?,
        Unit::Weeks => TimeDelta::try_weeks(amount)?,
        Unit::Months | Unit::Years => {
            let months = if unit == Unit::Years { amount.checked_mul(12)? } else { amount };
            let magnitude = Months::new(u32::try_from(months.unsigned_abs()).ok()?);
            return if months >= 0 { at.checked_add_months(magnitude) } else { at.checked_sub_months(magnitude) };
        }
    };
    at.checked_add_signed(delta)
}

/// The moment a phrase means, and whether it fixed the time of day.
fn resolve(meaning: Meaning, now: DateTime<FixedOffset>) -> Option<(DateTime<FixedOffset>, bool)> {
    let (date, time, offset) = match meaning {
        Meaning::Now => return Some((now, true)),
        Meaning::FromNow { amount, unit } => {
            let local = shift(now.naive_local(), amount, unit)?;
            return Some((now.offset().from_local_datetime(&local).single()?, true));
        }
        Meaning::At { date, time, offset } => (date, time, offset),
    };
    let offset = offset.unwrap_or(*now.offset());
    let local_now = now.with_timezone(&offset).naive_local();
    let today = local_now.date();
    let (clock, days_after, has_time) = time_of_day(time, date.and_then(|date| date.period))?;
    let day = match date.map(|date| date.spec) {
        None => today,
        Some(DateSpec::Day(day)) => day,
        Some(DateSpec::DaysFromToday(days)) => shift(today.and_time(clock), days, Unit::Days)?.date(),
        Some(DateSpec::FromToday { amount, unit }) => shift(today.and_time(clock), amount, unit)?.date(),
        Some(DateSpec::MonthDay { month, day }) => next_month_day(today, month, day)?,
        Some(DateSpec::Weekday { weekday, mode }) => {
            let ahead =
                (7 + i64::from(weekday.num_days_from_monday()) - i64::from(today.weekday().num_days_from_monday())) % 7;
            let days = match mode {
                WeekdayMode::Coming if ahead == 0 => {
                    let at = today.and_time(clock).checked_add_days(Days::new(days_after))?;
                    let still_ahead = has_time && at > local_now;
                    if still_ahead { 0 } else { 7 }
                }
                WeekdayMode::Next if ahead == 0 => 7,
                WeekdayMode::Coming | WeekdayMode::Next => ahead,
                WeekdayMode::Last => -(if ahead == 0 { 7 } else { 7 - ahead }),
            };
            shift(today.and_time(clock), days, Unit::Days)?.date()
        }
    };
    let local = day.checked_add_days(Days::new(days_after))?.and_time(clock);
    Some((offset.from_local_datetime(&local).single()?, has_time))
}

/// The next date (today included) with this month and day; searched over eight years so that
/// February 29 finds a leap year.
fn next_month_day(today: NaiveDate, month: u32, day: u32) -> Option<NaiveDate> {
    (0..8).find_map(|years| {
        let date = NaiveDate::from_ymd_opt(today.year().checked_add(years)?, month, day)?;
        (date >= today).then_some(date)
    })
}

#[cfg(test)]
#[path = "time_tests.rs"]
mod tests;
