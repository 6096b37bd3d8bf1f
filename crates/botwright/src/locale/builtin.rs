//! The built-in strings: prompts' retries, yes/no words, list separators, the error message.
//!
//! Ids (all in the global namespace; an application overrides any of them per locale):
//! `default_text`, `default_number`, `default_confirm`, `default_choice`, `default_time`,
//! `default_file`, `default_error`, `list_or`, `list_or_more`, `confirm_yes`, `confirm_no`,
//! `yes_words`, `no_words` (`|`-separated), `number_min_error`, `number_max_error`,
//! `number_range_error`, `number_integer_error`, `text_min_length_error`, `text_max_length_error`.

/// `(locale, id, text)` rows.
pub(crate) const MESSAGES: &[(&str, &str, &str)] = &[
    ("en", "default_text", "I didn't understand. Please try again."),
    ("en", "default_number", "I didn't recognize that as a number. Please enter a number."),
    ("en", "default_confirm", "I didn't understand. Please answer 'yes' or 'no'."),
    ("en", "default_choice", "I didn't understand. Please choose an option from the list."),
    (
        "en",
        "default_time",
        "I didn't recognize the time you entered. Please try again, for example \"tomorrow at 5pm\" or \"2026-12-24 18:00\".",
    ),
    ("en", "default_file", "I didn't receive a file. Please try again."),
    ("en", "default_error", "Oops. Something went wrong and we need to start over."),
    ("en", "list_or", " or "),
    ("en", "list_or_more", ", or "),
    ("en", "confirm_yes", "Yes"),
    ("en", "confirm_no", "No"),
    ("en", "yes_words", "yes|y|yep|yeah|sure|ok|okay|true|1"),
    ("en", "no_words", "no|n|nope|not|nah|false|2"),
    (
        "en",
        "number_min_error",
        "The number you entered was below the minimum allowed value of %s. Please enter a valid number.",
    ),
    (
        "en",
        "number_max_error",
        "The number you entered was above the maximum allowed value of %s. Please enter a valid number.",
    ),
    (
        "en",
        "number_range_error",
        "The number you entered was outside the allowed range of %s to %s. Please enter a valid number.",
    ),
    ("en", "number_integer_error", "The number you entered was not an integer. Please enter a whole number."),
    (
        "en",
        "text_min_length_error",
        "The text you entered was shorter than the minimum allowed length of %s. Please try again.",
    ),
    (
        "en",
        "text_max_length_error",
        "The text you entered was longer than the maximum allowed length of %s. Please try again.",
    ),
];
