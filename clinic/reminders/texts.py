"""Words on the patient's link pages, in English and Spanish.

The pages a patient opens from an email speak the patient's language. The project has
no compiled gettext catalogues yet, so the few sentences live here, side by side.
"""

TEXTS = {
    "en": {
        "exercises_title": "Today's exercises",
        "exercises_intro": "Hello {name}, here are your home exercises for today.",
        "sets_reps": "{sets} sets of {reps} repetitions",
        "hold": "hold {seconds} seconds",
        "times_per_day": "{times} times a day",
        "therapist_note": "Note from your therapist",
        "no_program": "You have no active home exercise program at the moment.",
        "after_exercises": "When you have finished, press “I did my exercises today” "
        "in your email.",
        "done_title": "I did my exercises today",
        "done_question": "Did you do your home exercises today, {date}?",
        "done_button": "Yes, I did my exercises today",
        "done_recorded": "Thank you, {name}! Your exercises for {date} are recorded.",
        "done_outside": "Your program does not include today, so there is nothing to record.",
        "pain_title": "How is your pain today?",
        "pain_question": "Pain now (0–10)",
        "pain_help": "0 means no pain at all; 10 means the worst pain you can imagine.",
        "pain_button": "Send",
        "pain_thanks": "Thank you, {name}. Your therapist will see your answer.",
        "pain_required": "Choose a number from 0 to 10.",
        "unsubscribe_title": "Stop email reminders",
        "unsubscribe_question": "Stop all email reminders from {clinic}?",
        "unsubscribe_button": "Stop reminders",
        "unsubscribed": "Done: you will get no more reminder emails from {clinic}. "
        "To turn them back on, call us on {phone}.",
        "call_us": "Questions? Call {clinic} on {phone}.",
        "no_zero": "No pain",
        "worst": "Worst pain imaginable",
    },
    "es": {
        "exercises_title": "Ejercicios de hoy",
        "exercises_intro": "Hola, {name}: estos son sus ejercicios en casa para hoy.",
        "sets_reps": "{sets} series de {reps} repeticiones",
        "hold": "mantener {seconds} segundos",
        "times_per_day": "{times} veces al día",
        "therapist_note": "Nota de su fisioterapeuta",
        "no_program": "En este momento no tiene un programa de ejercicios activo.",
        "after_exercises": "Cuando termine, pulse «Hoy hice mis ejercicios» en su correo.",
        "done_title": "Hoy hice mis ejercicios",
        "done_question": "¿Hizo hoy, {date}, sus ejercicios en casa?",
        "done_button": "Sí, hoy hice mis ejercicios",
        "done_recorded": "¡Gracias, {name}! Sus ejercicios del {date} quedan registrados.",
        "done_outside": "Su programa no incluye el día de hoy; no hay nada que registrar.",
        "pain_title": "¿Cómo está su dolor hoy?",
        "pain_question": "Dolor ahora (0–10)",
        "pain_help": "0 significa nada de dolor; 10, el peor dolor que pueda imaginar.",
        "pain_button": "Enviar",
        "pain_thanks": "Gracias, {name}. Su fisioterapeuta verá su respuesta.",
        "pain_required": "Elija un número del 0 al 10.",
        "unsubscribe_title": "Dejar de recibir recordatorios",
        "unsubscribe_question": "¿Dejar de recibir todos los recordatorios de {clinic}?",
        "unsubscribe_button": "Dejar de recibirlos",
        "unsubscribed": "Hecho: no recibirá más recordatorios de {clinic}. "
        "Para volver a recibirlos, llámenos al {phone}.",
        "call_us": "¿Preguntas? Llame a {clinic} al {phone}.",
        "no_zero": "Sin dolor",
        "worst": "El peor dolor imaginable",
    },
}


def texts_for(language: str) -> dict:
    return TEXTS.get(language, TEXTS["en"])
