# Built-in strings of botwright, in English (en).
# Placeholders are Bot Builder v3's: %s is the next argument (see the `builtin` module
# documentation for which message gets which). An application overrides any id per locale.

default_text = I didn't understand. Please try again.
default_number = I didn't recognize that as a number. Please enter a number.
default_confirm = I didn't understand. Please answer 'yes' or 'no'.
default_choice = I didn't understand. Please choose an option from the list.
default_time = I didn't recognize the time you entered. Please try again, for example "tomorrow at 5pm" or "2026-12-24 18:00".
default_file = I didn't receive a file. Please try again.
default_error = Oops. Something went wrong and we need to start over.
list_or = {" "}or{" "}
list_or_more = , or{" "}
confirm_yes = Yes
confirm_no = No
yes_words = yes|y|yep|yeah|sure|ok|okay|true|1
no_words = no|n|nope|not|nah|false|2
number_words = zero|one|two|three|four|five|six|seven|eight|nine|ten
ordinal_words = first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth
number_min_error = The number you entered was below the minimum allowed value of %s. Please enter a valid number.
number_max_error = The number you entered was above the maximum allowed value of %s. Please enter a valid number.
number_range_error = The number you entered was outside the allowed range of %s to %s. Please enter a valid number.
number_integer_error = The number you entered was not an integer. Please enter a whole number.
text_min_length_error = The text you entered was shorter than the minimum allowed length of %s. Please try again.
text_max_length_error = The text you entered was longer than the maximum allowed length of %s. Please try again.
