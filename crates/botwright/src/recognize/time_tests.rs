use chrono::{DateTime, FixedOffset};

use super::parse_time;

/// Thursday 2026-11-26, 10:00 at UTC+1.
fn now() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-11-26T10:00:00+01:00").unwrap()
}

/// An expected match: RFC 3339 value, matched text, has_time.
type Expected<'a> = Option<(&'a str, &'a str, bool)>;

/// Checks a table of reply → expected match.
fn check(now: DateTime<FixedOffset>, table: &[(&str, Expected<'_>)]) {
    for &(input, expected) in table {
        let got = parse_time(input, now);
        let got = got.as_ref().map(|m| (m.value.to_rfc3339(), m.text.as_str(), m.has_time));
        let expected = expected.map(|(value, text, has_time)| (value.to_string(), text, has_time));
        assert_eq!(got, expected, "{input:?}");
    }
}

#[test]
fn iso_dates_and_times() {
    check(
        now(),
        &[
            ("2026-12-24", Some(("2026-12-24T12:00:00+01:00", "2026-12-24", false))),
            ("2026-12-24T18:00", Some(("2026-12-24T18:00:00+01:00", "2026-12-24T18:00", true))),
            ("2026-12-24t18:00", Some(("2026-12-24T18:00:00+01:00", "2026-12-24t18:00", true))),
            ("2026-12-24 18:00", Some(("2026-12-24T18:00:00+01:00", "2026-12-24 18:00", true))),
            ("2026-12-24 18:00:30", Some(("2026-12-24T18:00:30+01:00", "2026-12-24 18:00:30", true))),
            ("2026-12-24T18:00Z", Some(("2026-12-24T18:00:00+00:00", "2026-12-24T18:00Z", true))),
            ("2026-12-24T18:00+02:00", Some(("2026-12-24T18:00:00+02:00", "2026-12-24T18:00+02:00", true))),
            ("2026-12-24T18:00-0530", Some(("2026-12-24T18:00:00-05:30", "2026-12-24T18:00-0530", true))),
            ("2026-12-24 at 6pm", Some(("2026-12-24T18:00:00+01:00", "2026-12-24 at 6pm", true))),
            ("on 2026-1-5", Some(("2026-01-05T12:00:00+01:00", "2026-1-5", false))),
            ("2026-02-30", None),
            ("2026-13-01", None),
            ("2026-12-24T25:00", None),
        ],
    );
}

#[test]
fn clock_times_today() {
    check(
        now(),
        &[
            ("18:00", Some(("2026-11-26T18:00:00+01:00", "18:00", true))),
            ("9:05", Some(("2026-11-26T09:05:00+01:00", "9:05", true))),
            ("6pm", Some(("2026-11-26T18:00:00+01:00", "6pm", true))),
            ("6 PM", Some(("2026-11-26T18:00:00+01:00", "6 PM", true))),
            ("6:30 pm", Some(("2026-11-26T18:30:00+01:00", "6:30 pm", true))),
            ("6.30pm", Some(("2026-11-26T18:30:00+01:00", "6.30pm", true))),
            ("7 a.m.", Some(("2026-11-26T07:00:00+01:00", "7 a.m.", true))),
            ("12am", Some(("2026-11-26T00:00:00+01:00", "12am", true))),
            ("12pm", Some(("2026-11-26T12:00:00+01:00", "12pm", true))),
            ("at 9", Some(("2026-11-26T09:00:00+01:00", "at 9", true))),
            ("at 21", Some(("2026-11-26T21:00:00+01:00", "at 21", true))),
            ("at 5 o'clock", Some(("2026-11-26T05:00:00+01:00", "at 5 o'clock", true))),
            ("9 o'clock", Some(("2026-11-26T09:00:00+01:00", "9 o'clock", true))),
            ("11 oclock", Some(("2026-11-26T11:00:00+01:00", "11 oclock", true))),
            ("@ 14:15", Some(("2026-11-26T14:15:00+01:00", "@ 14:15", true))),
            ("at noon", Some(("2026-11-26T12:00:00+01:00", "at noon", true))),
            ("Noon", Some(("2026-11-26T12:00:00+01:00", "Noon", true))),
            ("midday", Some(("2026-11-26T12:00:00+01:00", "midday", true))),
            ("midnight", Some(("2026-11-27T00:00:00+01:00", "midnight", true))),
            ("at midnight", Some(("2026-11-27T00:00:00+01:00", "at midnight", true))),
            // A time already past today stays today.
            ("8am", Some(("2026-11-26T08:00:00+01:00", "8am", true))),
            ("25:00", None),
            ("13pm", None),
            ("0am", None),
            ("10:60", None),
            ("9", None),
            ("at", None),
        ],
    );
}

#[test]
fn relative_days() {
    check(
        now(),
        &[
            ("now", Some(("2026-11-26T10:00:00+01:00", "now", true))),
            ("right now", Some(("2026-11-26T10:00:00+01:00", "right now", true))),
            ("today", Some(("2026-11-26T12:00:00+01:00", "today", false))),
            ("Tomorrow", Some(("2026-11-27T12:00:00+01:00", "Tomorrow", false))),
            ("yesterday", Some(("2026-11-25T12:00:00+01:00", "yesterday", false))),
            ("tonight", Some(("2026-11-26T20:00:00+01:00", "tonight", true))),
            ("tonight at 9", Some(("2026-11-26T21:00:00+01:00", "tonight at 9", true))),
            ("this morning", Some(("2026-11-26T09:00:00+01:00", "this morning", true))),
            ("tomorrow afternoon", Some(("2026-11-27T15:00:00+01:00", "tomorrow afternoon", true))),
            ("tomorrow evening at 8", Some(("2026-11-27T20:00:00+01:00", "tomorrow evening at 8", true))),
            ("tomorrow at 5pm", Some(("2026-11-27T17:00:00+01:00", "tomorrow at 5pm", true))),
            ("tomorrow 5pm", Some(("2026-11-27T17:00:00+01:00", "tomorrow 5pm", true))),
            ("tomorrow, 17:30", Some(("2026-11-27T17:30:00+01:00", "tomorrow, 17:30", true))),
            ("at 5pm tomorrow", Some(("2026-11-27T17:00:00+01:00", "at 5pm tomorrow", true))),
            ("noon tomorrow", Some(("2026-11-27T12:00:00+01:00", "noon tomorrow", true))),
            ("tomorrow at midnight", Some(("2026-11-28T00:00:00+01:00", "tomorrow at midnight", true))),
            ("today at 18:00", Some(("2026-11-26T18:00:00+01:00", "today at 18:00", true))),
            ("the day after tomorrow", Some(("2026-11-28T12:00:00+01:00", "day after tomorrow", false))),
            ("day before yesterday at 8am", Some(("2026-11-24T08:00:00+01:00", "day before yesterday at 8am", true))),
            ("next week", Some(("2026-12-03T12:00:00+01:00", "next week", false))),
            ("next month at 9:00", Some(("2026-12-26T09:00:00+01:00", "next month at 9:00", true))),
            ("last year", Some(("2025-11-26T12:00:00+01:00", "last year", false))),
        ],
    );
}

#[test]
fn relative_amounts() {
    check(
        now(),
        &[
            ("in 2 hours", Some(("2026-11-26T12:00:00+01:00", "in 2 hours", true))),
            ("in 30 minutes", Some(("2026-11-26T10:30:00+01:00", "in 30 minutes", true))),
            ("in 30min", Some(("2026-11-26T10:30:00+01:00", "in 30min", true))),
            ("in 2h", Some(("2026-11-26T12:00:00+01:00", "in 2h", true))),
            ("in 45 seconds", Some(("2026-11-26T10:00:45+01:00", "in 45 seconds", true))),
            ("in an hour", Some(("2026-11-26T11:00:00+01:00", "in an hour", true))),
            ("in half an hour", Some(("2026-11-26T10:30:00+01:00", "in half an hour", true))),
            ("in two hours", Some(("2026-11-26T12:00:00+01:00", "in two hours", true))),
            ("in twenty minutes", Some(("2026-11-26T10:20:00+01:00", "in twenty minutes", true))),
            ("in 3 days", Some(("2026-11-29T10:00:00+01:00", "in 3 days", true))),
            ("in a week", Some(("2026-12-03T10:00:00+01:00", "in a week", true))),
            ("in 2 weeks", Some(("2026-12-10T10:00:00+01:00", "in 2 weeks", true))),
            ("in 3 months", Some(("2027-02-26T10:00:00+01:00", "in 3 months", true))),
            ("in 1 year", Some(("2027-11-26T10:00:00+01:00", "in 1 year", true))),
            ("in 3 days at 9am", Some(("2026-11-29T09:00:00+01:00", "in 3 days at 9am", true))),
            ("3 hours from now", Some(("2026-11-26T13:00:00+01:00", "3 hours from now", true))),
            ("2 days ago", Some(("2026-11-24T10:00:00+01:00", "2 days ago", true))),
            ("an hour later", Some(("2026-11-26T11:00:00+01:00", "an hour later", true))),
            ("in 1h30", Some(("2026-11-26T11:30:00+01:00", "in 1h30", true))),
            ("in 1h30m", Some(("2026-11-26T11:30:00+01:00", "in 1h30m", true))),
            ("in 2 hours and 15 minutes", Some(("2026-11-26T12:15:00+01:00", "in 2 hours and 15 minutes", true))),
            (
                "in 1 hour 5 minutes 10 seconds",
                Some(("2026-11-26T11:05:10+01:00", "in 1 hour 5 minutes 10 seconds", true)),
            ),
            ("in an hour and a half", Some(("2026-11-26T11:30:00+01:00", "in an hour and a half", true))),
            ("in 5 minutes and 2 hours", Some(("2026-11-26T10:05:00+01:00", "in 5 minutes", true))),
            ("in 2 days and 3 hours", Some(("2026-11-28T10:00:00+01:00", "in 2 days", true))),
            ("in 999999999 years", None),
            ("in 2026", None),
            ("2 hours", None),
        ],
    );
}

#[test]
fn weekdays() {
    // Now is Thursday 2026-11-26.
    check(
        now(),
        &[
            ("monday", Some(("2026-11-30T12:00:00+01:00", "monday", false))),
            ("on Monday", Some(("2026-11-30T12:00:00+01:00", "on Monday", false))),
            ("next monday", Some(("2026-11-30T12:00:00+01:00", "next monday", false))),
            ("this monday", Some(("2026-11-30T12:00:00+01:00", "this monday", false))),
            ("last monday", Some(("2026-11-23T12:00:00+01:00", "last monday", false))),
            ("monday at 9", Some(("2026-11-30T09:00:00+01:00", "monday at 9", true))),
            ("fri 6pm", Some(("2026-11-27T18:00:00+01:00", "fri 6pm", true))),
            ("5pm on friday", Some(("2026-11-27T17:00:00+01:00", "5pm on friday", true))),
            ("friday evening", Some(("2026-11-27T19:00:00+01:00", "friday evening", true))),
            // Today's weekday: today when the time is still ahead, else next week.
            ("thursday at 11", Some(("2026-11-26T11:00:00+01:00", "thursday at 11", true))),
            ("thursday at 9", Some(("2026-12-03T09:00:00+01:00", "thursday at 9", true))),
            ("thursday", Some(("2026-12-03T12:00:00+01:00", "thursday", false))),
            ("next thursday at 11", Some(("2026-12-03T11:00:00+01:00", "next thursday at 11", true))),
            ("last thursday", Some(("2026-11-19T12:00:00+01:00", "last thursday", false))),
            ("wednesday", Some(("2026-12-02T12:00:00+01:00", "wednesday", false))),
        ],
    );
}

#[test]
fn month_names() {
    check(
        now(),
        &[
            ("december 24", Some(("2026-12-24T12:00:00+01:00", "december 24", false))),
            ("Dec 24th", Some(("2026-12-24T12:00:00+01:00", "Dec 24th", false))),
            ("24 december", Some(("2026-12-24T12:00:00+01:00", "24 december", false))),
            ("24th of Dec", Some(("2026-12-24T12:00:00+01:00", "24th of Dec", false))),
            ("dec 24, 2027", Some(("2027-12-24T12:00:00+01:00", "dec 24, 2027", false))),
            ("24 dec 2027 at 18:00", Some(("2027-12-24T18:00:00+01:00", "24 dec 2027 at 18:00", true))),
            // Past this year: next year.
            ("march 3", Some(("2027-03-03T12:00:00+01:00", "march 3", false))),
            ("november 26", Some(("2026-11-26T12:00:00+01:00", "november 26", false))),
            ("feb 29", Some(("2028-02-29T12:00:00+01:00", "feb 29", false))),
            ("feb 30", None),
            ("december 32", None),
        ],
    );
}

#[test]
fn times_inside_sentences() {
    check(
        now(),
        &[
            ("remind me tomorrow at 5pm to call mom", Some(("2026-11-27T17:00:00+01:00", "tomorrow at 5pm", true))),
            ("let's meet at noon, ok?", Some(("2026-11-26T12:00:00+01:00", "at noon", true))),
            ("I have 3 kids; see you at 6pm", Some(("2026-11-26T18:00:00+01:00", "at 6pm", true))),
            ("Ping me in 30 minutes please", Some(("2026-11-26T10:30:00+01:00", "in 30 minutes", true))),
            ("between 2026-13-01 and 2026-12-01", Some(("2026-12-01T12:00:00+01:00", "2026-12-01", false))),
            ("not sure", None),
            ("I'll sit in the park", None),
            ("nowhere", None),
        ],
    );
}

#[test]
fn the_span_points_into_the_reply() {
    let text = "¿Mañana? tomorrow at 5pm";
    let found = parse_time(text, now()).unwrap();
    assert_eq!(&text[found.span.clone()], "tomorrow at 5pm");
    assert_eq!(found.text, "tomorrow at 5pm");
}

#[test]
fn other_offsets() {
    let tokyo = DateTime::parse_from_rfc3339("2026-11-26T23:30:00+09:00").unwrap();
    check(
        tokyo,
        &[
            ("tomorrow", Some(("2026-11-27T12:00:00+09:00", "tomorrow", false))),
            ("in 1 hour", Some(("2026-11-27T00:30:00+09:00", "in 1 hour", true))),
            ("midnight", Some(("2026-11-27T00:00:00+09:00", "midnight", true))),
        ],
    );
}

#[test]
fn bad_input() {
    for input in ["", " ", "\n\t", "👍", "🕐🕑", ":", "-", "12:", "at at at", "in", "in a", "2026-", "T18:00"] {
        assert_eq!(parse_time(input, now()), None, "{input:?}");
    }
}

#[test]
fn very_long_replies() {
    let noise = "blah 12 at in on next ".repeat(4_600);
    assert_eq!(parse_time(&noise, now()), None);
    let with_time = format!("{noise} tomorrow at 5pm {noise}");
    let found = parse_time(&with_time, now()).unwrap();
    assert_eq!(found.text, "tomorrow at 5pm");
    let digits = "9".repeat(100_000);
    assert_eq!(parse_time(&digits, now()), None);
    let emoji = "⏰".repeat(30_000);
    assert_eq!(parse_time(&emoji, now()), None);
    let colons = "1:".repeat(50_000);
    assert!(parse_time(&colons, now()).is_none_or(|found| found.text.len() < 20));
}
