# Built-in strings of botwright, in Spanish (es).
# Placeholders are Bot Builder v3's: %s is the next argument (see the `builtin` module
# documentation for which message gets which). An application overrides any id per locale.

default_text = No te he entendido. Por favor, inténtalo de nuevo.
default_number = No he reconocido eso como un número. Por favor, escribe un número.
default_confirm = No te he entendido. Por favor, responde 'sí' o 'no'.
default_choice = No te he entendido. Por favor, elige una opción de la lista.
default_time = No he reconocido la hora que escribiste. Por favor, inténtalo de nuevo, por ejemplo "mañana a las 5 de la tarde" o "2026-12-24 18:00".
default_file = No he recibido ningún archivo. Por favor, inténtalo de nuevo.
default_error = Vaya. Algo ha salido mal y tenemos que empezar de nuevo.
list_or = {" "}o{" "}
list_or_more = {" "}o{" "}
confirm_yes = Sí
confirm_no = No
yes_words = sí|si|s|claro|vale|de acuerdo|por supuesto|ok|okay|verdadero|1
no_words = no|n|nop|para nada|falso|2
number_words = cero|uno/una/un|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez
ordinal_words = primero/primera/primer|segundo/segunda|tercero/tercera/tercer|cuarto/cuarta|quinto/quinta|sexto/sexta|séptimo/séptima/septimo/septima|octavo/octava|noveno/novena|décimo/décima/decimo/decima
number_min_error = El número que escribiste es menor que el valor mínimo permitido, %s. Por favor, escribe un número válido.
number_max_error = El número que escribiste es mayor que el valor máximo permitido, %s. Por favor, escribe un número válido.
number_range_error = El número que escribiste está fuera del rango permitido, de %s a %s. Por favor, escribe un número válido.
number_integer_error = El número que escribiste no es un número entero. Por favor, escribe un número entero.
text_min_length_error = El texto que escribiste es más corto que la longitud mínima permitida, %s. Por favor, inténtalo de nuevo.
text_max_length_error = El texto que escribiste es más largo que la longitud máxima permitida, %s. Por favor, inténtalo de nuevo.
