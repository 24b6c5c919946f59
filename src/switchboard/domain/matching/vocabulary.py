"""Word lists for the synthetic contacts of ``generate``: names, surnames, places, companies.

Lists are ordered roughly by frequency; ``generate`` draws from them with Zipf-like weights and
builds a long tail of rarer surnames from roots and suffixes, so blocks grow the way real ones do.
"""

from __future__ import annotations

from typing import Final


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


RU_MALE: Final = _words(
    "Александр Сергей Дмитрий Андрей Алексей Максим Евгений Иван Михаил Артём Владимир Николай Денис "
    "Павел Роман Игорь Олег Юрий Виктор Антон Илья Кирилл Никита Егор Василий Константин Георгий "
    "Вячеслав Григорий Тимофей Фёдор Леонид Борис Степан Матвей Семён Пётр Аркадий Яков Эдуард Ярослав"
)
RU_FEMALE: Final = _words(
    "Елена Ольга Наталья Татьяна Анна Мария Ирина Екатерина Светлана Юлия Анастасия Марина Людмила "
    "Дарья Ксения Галина Надежда Виктория Валентина Алёна Полина Вера Любовь Евгения Софья Алина "
    "Кристина Жанна Зоя Лариса Оксана Маргарита Яна Эльвира Раиса Варвара Ульяна Фаина Василиса"
)
RU_SURNAME_ROOTS: Final = _words(
    "Иван Смирн Кузнец Поп Васил Петр Сокол Михайл Новик Фёдор Мороз Волк Алексе Лебед Семён Егор "
    "Павл Козл Степан Никол Орл Андре Макар Никит Захар Зайц Солов Борис Яковл Григорь Роман Воробь "
    "Серге Кузьм Фрол Александр Дмитри Корол Гус Кисел Иль Максим Поляк Сорок Виноград Ковал Бел Медвед "
    "Антон Тарас Жук Баран Филипп Комар Давыд Герасим Богдан Осип Сидор Матве Тит Марк Мирон Крыл Кулик "
    "Карп Влас Мельник Денис Гаврил Тихон Казак Афанась Данил Савель Тимоф Фом Черн Абрам Марты Ефим "
    "Федот Щерб Назар Калин Иса Черныш Бык Масл Родион Коновал Лазар Ворон Клим Филат Пономар Голуб "
    "Кудрявц Прохор Наум Потап Журавл Овчинник Трофим Леон Собол Ермак Колесник Гончар Емельян Никифор "
    "Грач Кот Гриш Ефрем Архип Гром Кирилл Малыш Пан Моисе Румянц Аким Кондрат Бирюк Горбун Зиновь "
    "Шестак Щук Юд Хохл Цвет Шир Шуб Сафон Лыс Ждан Утк Хром Щегл Жар Чиж Яшин Хабар Цар Эрд Юрь"
)
RU_SYLLABLES: Final = _words(
    "ба бо бу ва ве во га го гу да де ду жу за зо ка ки ко ку ла ле ли ло лу ма ме ми мо му на не ни но "
    "па пе по пу ра ре ри ро ру са се со су та те то ту фе хо ца че ча ша шу ще юр ям ар ос ул ер"
)
RU_SUFFIXES_MALE: Final = ("ов", "ев", "ин", "ский", "ович")
RU_FEMININE: Final = {"ов": "ова", "ев": "ева", "ин": "ина", "ский": "ская", "ович": "ович"}

EN_MALE: Final = _words(
    "James John Robert Michael William David Richard Joseph Thomas Charles Christopher Daniel Matthew "
    "Anthony Mark Donald Steven Paul Andrew Joshua Kenneth Kevin Brian George Timothy Ronald Edward "
    "Jason Jeffrey Ryan Jacob Gary Nicholas Eric Jonathan Stephen Larry Justin Scott Brandon Benjamin"
)
EN_FEMALE: Final = _words(
    "Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Lisa Nancy Betty Margaret "
    "Sandra Ashley Kimberly Emily Donna Michelle Carol Amanda Dorothy Melissa Deborah Stephanie Rebecca "
    "Sharon Laura Cynthia Kathleen Amy Angela Shirley Anna Brenda Pamela Emma Nicole Helen Samantha"
)
EN_SURNAMES: Final = _words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez "
    "Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark "
    "Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams "
    "Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker "
    "Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper "
    "Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James "
    "Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez"
)
EN_PREFIXES: Final = _words(
    "Ash Black Brad Brook Clay Cole Dun Elm Fair Green Hart Hay Kings Lang Mar Mill Red Stan Wes Whit"
)
EN_ENDINGS: Final = _words("ford ley ton wood field worth well by more stone ham man er son hill bury dale")

RU_CITIES: Final = (
    ("Москва", ("Москва", "г. Москва", "Moscow", "Moskva", "москва")),
    ("Санкт-Петербург", ("Санкт-Петербург", "СПб", "г. Санкт-Петербург", "Saint Petersburg", "St. Petersburg")),
    ("Новосибирск", ("Новосибирск", "г. Новосибирск", "Novosibirsk")),
    ("Екатеринбург", ("Екатеринбург", "г. Екатеринбург", "Yekaterinburg", "Ekaterinburg")),
    ("Казань", ("Казань", "г. Казань", "Kazan")),
    ("Нижний Новгород", ("Нижний Новгород", "Н. Новгород", "Nizhny Novgorod")),
    ("Челябинск", ("Челябинск", "Chelyabinsk")),
    ("Самара", ("Самара", "г. Самара", "Samara")),
    ("Омск", ("Омск", "Omsk")),
    ("Ростов-на-Дону", ("Ростов-на-Дону", "Rostov-on-Don", "Ростов-на-дону")),
    ("Уфа", ("Уфа", "Ufa")),
    ("Красноярск", ("Красноярск", "Krasnoyarsk")),
    ("Воронеж", ("Воронеж", "Voronezh")),
    ("Пермь", ("Пермь", "Perm")),
    ("Волгоград", ("Волгоград", "Volgograd")),
    ("Тверь", ("Тверь", "Tver")),
    ("Тула", ("Тула", "Tula")),
    ("Ярославль", ("Ярославль", "Yaroslavl")),
)
EN_CITIES: Final = (
    ("London", ("London",)),
    ("New York", ("New York", "NYC", "New York City")),
    ("Manchester", ("Manchester",)),
    ("Los Angeles", ("Los Angeles", "LA")),
    ("Chicago", ("Chicago",)),
    ("Boston", ("Boston",)),
    ("Birmingham", ("Birmingham",)),
    ("San Francisco", ("San Francisco", "SF")),
    ("Leeds", ("Leeds",)),
    ("Seattle", ("Seattle",)),
)
RU_STREETS: Final = _words(
    "Ленина Мира Советская Гагарина Пушкина Садовая Лесная Школьная Центральная Молодёжная Новая Набережная "
    "Победы Кирова Чехова Островского Горького Комсомольская Октябрьская Первомайская Строителей Тверская "
    "Профсоюзная Вернадского Лермонтова Фрунзе Маяковского Королёва Жукова Дзержинского"
)
RU_STREET_KINDS: Final = (
    (("ул.", "улица", "ул"), 0.75),
    (("пр-т", "проспект", "просп."), 0.15),
    (("пер.", "переулок"), 0.1),
)
EN_STREETS: Final = _words(
    "Main Oak Pine Maple Cedar Elm Washington Lake Hill Park High Church Station Victoria Green King Queen "
    "Mill Bridge River Spring Grove North South"
)
EN_STREET_KINDS: Final = ((("St", "Street", "St."), 0.6), (("Ave", "Avenue"), 0.25), (("Rd", "Road"), 0.15))

RU_COMPANIES: Final = _words(
    "Ромашка Вектор Альфа Прогресс Горизонт Стройсервис Техносфера Северный ветер Гранит Меридиан "
    "Импульс Восток Сибирь Логистик Профи Старт Капитал Феникс Атлант Орион"
)
RU_LEGAL: Final = ("ООО", "АО", "ПАО", "ИП", "ЗАО")
EN_COMPANIES: Final = _words("Acme Globex Initech Umbrella Stark Wayne Hooli Vandelay Wonka Cyberdyne Tyrell Soylent")
EN_LEGAL: Final = ("LLC", "Inc", "Ltd", "Corp")

RU_MAIL: Final = ("mail.ru", "yandex.ru", "gmail.com", "bk.ru", "list.ru", "inbox.ru", "rambler.ru")
EN_MAIL: Final = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "aol.com")
